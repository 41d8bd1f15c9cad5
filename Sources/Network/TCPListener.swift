import Config
import Glibc
import IO
import Logging

/// A listening TCP socket on the event loop that hands each accepted connection's descriptor
/// (non-blocking, close-on-exec, Nagle off) to `onAccept`.
public final class TCPListener {
    public let address: ListenAddress
    private let loop: EventLoop
    private let log: Logger
    private var descriptor: Int32
    private let onAccept: (Int32) -> Void
    /// Whether another connection may be accepted now; when not, the listener pauses until `resume()`.
    private let mayAccept: () -> Bool
    private var paused = false

    /// Binds and listens on `requested` (port 0: any free port; `address` has the real one), or
    /// accepts on `inherited`, a socket already listening there.
    public init(
        _ requested: ListenAddress, inherited: Int32? = nil, loop: EventLoop, log: Logger,
        mayAccept: @escaping () -> Bool, onAccept: @escaping (Int32) -> Void
    ) throws(SocketError) {
        let descriptor: Int32
        if let inherited { descriptor = inherited } else { descriptor = try ListeningSocket.tcp(requested) }
        self.address = SocketAddress.local(of: descriptor, family: requested.family) ?? requested
        self.descriptor = descriptor
        self.loop = loop
        self.log = log
        self.mayAccept = mayAccept
        self.onAccept = onAccept
        loop.register(descriptor, interest: .read) { [weak self] _ in self?.acceptPending() }
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    public var isOpen: Bool { descriptor >= 0 }

    private func acceptPending() {
        while descriptor >= 0 {
            guard mayAccept() else {
                pause()
                return
            }
            let client = accept(descriptor, nil, nil)
            if client < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN: return
                case EMFILE, ENFILE:
                    // Pausing keeps a level-triggered listener from spinning; a closing connection resumes it.
                    log.error("cannot accept a connection on \(address): out of file descriptors (raise LimitNOFILE / ulimit -n)")
                    pause()
                    loop.schedule(afterNanoseconds: 100_000_000) { [weak self] in self?.resume() }
                    return
                default:
                    log.error("accept on \(address) failed: \(String(cString: strerror(errno)))")
                    return
                }
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            var on: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            onAccept(client)
        }
    }

    private func pause() {
        guard !paused, descriptor >= 0 else { return }
        paused = true
        loop.modify(descriptor, interest: [])
    }

    /// Accepts again after a pause (a connection closed, descriptors freed).
    public func resume() {
        guard paused, descriptor >= 0 else { return }
        paused = false
        loop.modify(descriptor, interest: .read)
        acceptPending()
    }

    public func close() {
        guard descriptor >= 0 else { return }
        loop.unregister(descriptor)
        Glibc.close(descriptor)
        descriptor = -1
    }
}
