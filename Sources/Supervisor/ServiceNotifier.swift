import Glibc

/// Where the supervisor reports readiness, reloads and stopping: the service manager itself,
/// or, in a core, the outer process that holds the service manager's ear.
protocol StatusNotifier: AnyObject {
    func ready(status: String)
    func reloading(status: String)
    func stopping()
    func watchdog()
    var watchdogInterval: UInt64? { get }
}

/// Tells a service manager how plugboard is doing: systemd's `NOTIFY_SOCKET` datagram protocol
/// (READY, RELOADING with MONOTONIC_USEC, STOPPING, STATUS, WATCHDOG), and s6's notification
/// descriptor (a newline once ready).
final class ServiceNotifier: StatusNotifier {
    private let socketPath: String?
    private var notifyDescriptor: Int32?
    /// Half of `WATCHDOG_USEC`, when systemd asks for keep-alives.
    let watchdogInterval: UInt64?

    init(notifyDescriptor: Int32?) {
        socketPath = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        self.notifyDescriptor = notifyDescriptor
        if let text = getenv("WATCHDOG_USEC").map({ String(cString: $0) }), let usec = UInt64(text), usec > 0,
            getenv("WATCHDOG_PID").map({ pid_t(String(cString: $0)) == getpid() }) ?? true
        {
            watchdogInterval = usec * 1000 / 2
        } else {
            watchdogInterval = nil
        }
        // Children must not talk to systemd on plugboard's behalf.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
    }

    func ready(status: String) {
        send("READY=1\nSTATUS=\(status)")
        if let descriptor = notifyDescriptor {
            _ = write(descriptor, "\n", 1)
            close(descriptor)
            notifyDescriptor = nil
        }
    }

    func reloading(status: String) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)\nSTATUS=\(status)")
    }

    func stopping() { send("STOPPING=1\nSTATUS=stopping") }
    func watchdog() { send("WATCHDOG=1") }

    private func send(_ message: String) {
        guard let socketPath, !socketPath.isEmpty else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
    }
}
