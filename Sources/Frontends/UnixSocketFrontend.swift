import Glibc
import IO
import Logging
import Proxy

/// Serves MCP clients on a Unix stream socket, one session per connection, each speaking
/// newline-delimited JSON-RPC exactly as on stdio. This is plugboard's daemon mode: a service
/// manager runs one long-lived instance and clients reach it through the socket (for example
/// `socat STDIO UNIX-CONNECT:PATH` as the client's server command).
public final class UnixSocketFrontend {
    public struct SocketError: Error, CustomStringConvertible {
        public let path: String
        public let call: String
        public let code: Int32
        public var description: String {
            "cannot listen on \(path): \(call) failed: \(String(cString: strerror(code)))"
        }
    }

    /// One accepted client and what it still owes or is owed.
    private final class Connection {
        let channel: PipeChannel
        let session: ClientSession
        init(channel: PipeChannel, session: ClientSession) {
            self.channel = channel
            self.session = session
        }
    }

    private let path: String
    let core: ProxyCore
    /// `beginDrain()` was called.
    var isDraining = false
    private let loop: EventLoop
    private let log: Logger
    private let maxMessageBytes: Int
    private let maxQueuedBytes: Int
    private var listener: Int32 = -1
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// Channels of dropped connections still writing what their client is owed.
    private var flushingChannels: [ObjectIdentifier: PipeChannel] = [:]
    private var flushedWaiters: [() -> Void] = []
    private var accepted = 0

    public init(path: String, core: ProxyCore, loop: EventLoop, maxMessageBytes: Int, maxQueuedBytes: Int, log: Logger) {
        self.path = path
        self.core = core
        self.loop = loop
        self.maxMessageBytes = maxMessageBytes
        self.maxQueuedBytes = maxQueuedBytes
        self.log = log.tagged("listen")
    }

    public var connectionCount: Int { connections.count }

    /// Binds and listens (mode 0600: only plugboard's user may connect). A stale socket left by
    /// an earlier instance is replaced; any other file at `path` is an error.
    public func start() throws(SocketError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SocketError(path: path, call: "bind (path longer than 107 bytes)", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard (existing.st_mode & S_IFMT) == S_IFSOCK else { throw SocketError(path: path, call: "bind (not a socket)", code: EEXIST) }
            unlink(path)
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(path: path, call: "socket", code: errno) }
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(path: path, call: "bind", code: code)
        }
        guard listen(descriptor, 128) == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(path: path, call: "listen", code: code)
        }
        listener = descriptor
        loop.register(descriptor, interest: .read) { [weak self] _ in self?.acceptPending() }
        log.info("listening on \(path)")
    }

    private func acceptPending() {
        while listener >= 0 {
            // accept4 is not in Glibc's overlay; children never inherit it anyway (spawn closes
            // every descriptor above 2), and PipeChannel makes it non-blocking.
            let client = accept(listener, nil, nil)
            if client < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN: return
                case EMFILE, ENFILE:
                    log.error("cannot accept a client: out of file descriptors (raise LimitNOFILE / ulimit -n)")
                    return
                default:
                    log.error("accept failed: \(String(cString: strerror(errno)))")
                    return
                }
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            open(client)
        }
    }

    private func open(_ descriptor: Int32) {
        accepted += 1
        let label = "socket#\(accepted)"
        let channel = PipeChannel(
            name: label, loop: loop, input: descriptor, output: dup(descriptor),
            maxMessageBytes: maxMessageBytes, maxQueuedBytes: maxQueuedBytes)
        channel.pauseInputAbove = maxQueuedBytes / 2
        var ended: (Int) -> Void = { _ in }
        let session = core.openSession(label: label) { message in
            if case .peerNotReading(let queued) = channel.send(message) { ended(queued) }
        }
        let connection = Connection(channel: channel, session: session)
        ended = { [weak self, weak connection] queued in
            guard let self, let connection else { return }
            log.error(
                "client \(label) has not read \(queued) bytes (limits.max_queued_bytes); ending its session: \(session.pendingRequestCount) call(s) in flight are cancelled upstream and counted as abandoned")
            drop(connection, reason: "it stopped reading", discardingOutput: true)
        }
        connections[ObjectIdentifier(connection)] = connection
        channel.onMessage = { [core] message in core.receive(message, from: session) }
        channel.onOversizedMessage = { [core] size, head in core.receiveOversized(byteCount: size, head: head, from: session) }
        channel.onInputClosed = { [weak self, weak connection] _ in
            guard let self, let connection else { return }
            self.finishWhenAnswered(connection)
        }
        channel.onOutputFailed = { [weak self, weak connection] _ in
            guard let self, let connection else { return }
            self.drop(connection, reason: "the client went away")
        }
        channel.start()
        log.debug("client \(label) connected")
    }

    /// The client closed its side: answers it is still owed go out, then the connection closes.
    private func finishWhenAnswered(_ connection: Connection) {
        guard connections[ObjectIdentifier(connection)] != nil else { return }
        connection.session.whenIdle { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.drop(connection, reason: "the client closed the connection")
        }
    }

    private func drop(_ connection: Connection, reason: String, discardingOutput: Bool = false) {
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil else { return }
        core.closeSession(connection.session, reason: reason)
        let channel = connection.channel
        channel.closeInput()
        if channel.isOutputOpen {
            flushingChannels[ObjectIdentifier(channel)] = channel
            channel.onOutputClosed = { [weak self, unowned channel] in self?.outputClosed(channel) }
        }
        if discardingOutput { channel.close() } else { channel.closeOutputAfterFlush() }
        log.debug("client \(connection.session.label) disconnected (\(reason))")
    }

    private func outputClosed(_ channel: PipeChannel) {
        guard flushingChannels.removeValue(forKey: ObjectIdentifier(channel)) != nil, flushingChannels.isEmpty else { return }
        for waiter in flushedWaiters.takeAll() { waiter() }
    }

    /// Stops accepting; existing clients keep their sessions until `finish()`.
    public func stopListening() {
        guard listener >= 0 else { return }
        loop.unregister(listener)
        close(listener)
        listener = -1
        unlink(path)
    }

    /// Flushes what each client is owed and closes every connection.
    public func finish() {
        stopListening()
        for connection in Array(connections.values) { drop(connection, reason: "plugboard is stopping") }
    }

    /// Runs `completion` once no connection has output left to write (at once if none has).
    func whenOutputClosed(_ completion: @escaping () -> Void) {
        if flushingChannels.isEmpty { completion() } else { flushedWaiters.append(completion) }
    }

    /// Drops what is still queued for clients.
    func closeNow() {
        for channel in Array(flushingChannels.values) { channel.close() }
    }

}
