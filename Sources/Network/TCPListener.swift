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

    /// Binds and listens on `requested` (port 0: any free port; `address` has the real one).
    public init(
        _ requested: ListenAddress, loop: EventLoop, log: Logger,
        mayAccept: @escaping () -> Bool, onAccept: @escaping (Int32) -> Void
    ) throws(SocketError) {
        guard let socketAddress = SocketAddress(requested) else { throw SocketError("parse \(requested)", code: EINVAL) }
        let descriptor = socket(socketAddress.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket for \(requested)") }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if requested.family == .ipv6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = socketAddress.withSockaddr { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            let error = SocketError("bind \(requested)")
            Glibc.close(descriptor)
            throw error
        }
        guard listen(descriptor, 511) == 0 else {
            let error = SocketError("listen on \(requested)")
            Glibc.close(descriptor)
            throw error
        }
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
