import Config
import Glibc
import HTTP
import IO
import Logging
import TLS

/// An HTTP/1.1 server on the event loop: keep-alive, pipelining, streamed responses, limits on
/// every input, and a graceful drain. What to answer is the handler's business.
public final class HTTPServer {
    public struct Settings: Sendable {
        public var limits: HTTPLimits
        public var maxConnections: Int
        /// Nanoseconds a client may take to send a whole request.
        public var headerTimeout: UInt64
        /// Nanoseconds a keep-alive connection may sit between requests.
        public var idleTimeout: UInt64
        /// Nanoseconds queued output may wait for a client that does not read.
        public var writeTimeout: UInt64
        /// Bytes queued for one connection before it is considered stuck and closed.
        public var maxQueuedBytes: Int

        public init(limits: HTTPLimits, maxConnections: Int, headerTimeout: UInt64, idleTimeout: UInt64, writeTimeout: UInt64, maxQueuedBytes: Int) {
            self.limits = limits
            self.maxConnections = maxConnections
            self.headerTimeout = headerTimeout
            self.idleTimeout = idleTimeout
            self.writeTimeout = writeTimeout
            self.maxQueuedBytes = maxQueuedBytes
        }
    }

    /// Counts for metrics and the status dump.
    public struct Counters: Sendable {
        public var connectionsAccepted = 0
        public var connectionsRefused = 0
        public var requests = 0
        public var badRequestsByStatus: [Int: Int] = [:]
        public var tlsHandshakeFailures = 0
    }

    let settings: Settings
    let log: Logger
    let handler: (HTTPExchange) -> Void
    private let loop: EventLoop
    private var listeners: [TCPListener] = []
    private var connections: [Int: HTTPServerConnection] = [:]
    private var nextConnectionID = 0
    private var sweepTimer: EventLoop.TimerID?
    private var draining = false
    private var drainCompletions: [() -> Void] = []
    public private(set) var counters = Counters()
    public private(set) var activeExchanges = 0

    public init(loop: EventLoop, settings: Settings, log: Logger, handler: @escaping (HTTPExchange) -> Void) {
        self.loop = loop
        self.settings = settings
        self.log = log
        self.handler = handler
    }

    public var connectionCount: Int { connections.count }
    public var addresses: [ListenAddress] { listeners.map(\.address) }

    /// Listens on `address` (or accepts on `inherited`, a socket already listening there),
    /// speaking TLS with `certificates` when given; returns the bound address (the real port
    /// when 0 was asked for).
    @discardableResult
    public func listen(on address: ListenAddress, inherited: Int32? = nil, tls certificates: TLSCertificates? = nil) throws(SocketError) -> ListenAddress {
        let listener = try TCPListener(
            address, inherited: inherited, loop: loop, log: log,
            mayAccept: { [unowned self] in
                if connections.count < settings.maxConnections { return true }
                counters.connectionsRefused += 1
                log.warning("connection limit reached (\(settings.maxConnections)); new connections wait in the backlog")
                return false
            },
            onAccept: { [unowned self] descriptor in accept(descriptor, tls: certificates) })
        listeners.append(listener)
        if sweepTimer == nil { scheduleSweep() }
        return listener.address
    }

    private func accept(_ descriptor: Int32, tls certificates: TLSCertificates?) {
        var session: TLSSession?
        if let certificates {
            do {
                session = try TLSSession(context: certificates.current, descriptor: descriptor, serverName: nil)
            } catch {
                log.error("cannot start TLS for a new connection: \(error)")
                Glibc.close(descriptor)
                return
            }
        }
        nextConnectionID += 1
        counters.connectionsAccepted += 1
        let connection = HTTPServerConnection(id: nextConnectionID, descriptor: descriptor, tls: session, server: self, loop: loop)
        connections[connection.id] = connection
        if draining { connection.drain() }
    }

    func connectionClosed(_ connection: HTTPServerConnection) {
        connections.removeValue(forKey: connection.id)
        for listener in listeners { listener.resume() }
        if draining && connections.isEmpty { finishDrain() }
    }

    /// Runs `completion` once a drain has closed the last connection (at once if it has).
    public func whenDrained(_ completion: @escaping () -> Void) {
        if draining && connections.isEmpty { completion() } else { drainCompletions.append(completion) }
    }

    private func finishDrain() {
        for completion in drainCompletions.takeAll() { completion() }
    }

    func requestStarted() {
        counters.requests += 1
        activeExchanges += 1
    }

    func requestFinished() { activeExchanges -= 1 }

    func tlsFailed() { counters.tlsHandshakeFailures += 1 }

    func parseErrorSeen(status: Int) { counters.badRequestsByStatus[status, default: 0] += 1 }

    private func scheduleSweep() {
        sweepTimer = loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self] in
            guard let self else { return }
            let now = EventLoop.now()
            for connection in Array(connections.values) { connection.enforceTimeouts(now: now) }
            scheduleSweep()
        }
    }

    /// Stops accepting: listeners close; connections stay.
    public func stopAccepting() {
        for listener in listeners { listener.close() }
    }

    /// Graceful close: no new connections, idle ones close now, busy ones after their exchange.
    public func drain() {
        stopAccepting()
        draining = true
        for connection in Array(connections.values) { connection.drain() }
        if connections.isEmpty { finishDrain() }
    }

    /// Closes everything now (after flushing what is queued).
    public func close() {
        drain()
        for connection in Array(connections.values) { connection.close() }
        if let sweepTimer { loop.cancelTimer(sweepTimer) }
        sweepTimer = nil
    }
}
