import Glibc
import IO
import Logging
import Network
import Proxy

/// Serves MCP clients on a Unix stream socket, one session per connection, each speaking
/// newline-delimited JSON-RPC exactly as on stdio. This is plugboard's daemon mode: a service
/// manager runs one long-lived instance and clients reach it through the socket (for example
/// `socat STDIO UNIX-CONNECT:PATH` as the client's server command).
public final class UnixSocketFrontend {
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
    private let inherited: Int32?
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// Channels of dropped connections still writing what their client is owed.
    private var flushingChannels: [ObjectIdentifier: PipeChannel] = [:]
    private var flushedWaiters: [() -> Void] = []
    private var accepted = 0

    /// `inherited`: a socket already listening at `path`, bound by a parent that also owns the path.
    public init(
        path: String, inherited: Int32? = nil, core: ProxyCore, loop: EventLoop, maxMessageBytes: Int, maxQueuedBytes: Int, log: Logger
    ) {
        self.path = path
        self.inherited = inherited
        self.core = core
        self.loop = loop
        self.maxMessageBytes = maxMessageBytes
        self.maxQueuedBytes = maxQueuedBytes
        self.log = log.tagged("listen")
    }

    public var connectionCount: Int { connections.count }

    /// Binds and listens (mode 0600: only plugboard's user may connect), or accepts on the
    /// inherited socket.
    public func start() throws(SocketError) {
        if let inherited { listener = inherited } else { listener = try ListeningSocket.unix(path: path) }
        loop.register(listener, interest: .read) { [weak self] _ in self?.acceptPending() }
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
        if inherited == nil { unlink(path) }
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
