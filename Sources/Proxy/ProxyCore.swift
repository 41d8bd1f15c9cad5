import Config
import IO
import JSON
import JSONRPC
import Logging
import Plugins

/// The proxy core: client sessions on one side, upstream connections on the other, and the
/// routing between them. Loop-confined: every method runs on `loop`.
public final class ProxyCore {
    enum Phase: Equatable {
        case serving
        /// Refusing new requests; those in flight have until the `deadline` timer fires.
        case draining(deadline: EventLoop.TimerID)
        /// Every request is answered or failed; the upstreams and plugins are stopping.
        case stoppingUpstreams
        case stopped

        /// What the status dump calls it.
        var name: String {
            switch self {
            case .serving: "serving"
            case .draining, .stoppingUpstreams: "draining"
            case .stopped: "stopped"
            }
        }
    }

    /// How names appear to clients, resolved from `[expose]` and the number of servers.
    enum Exposure: Equatable {
        case transparent
        case aggregated(separator: String)
    }

    var config: PlugboardConfig
    let loop: EventLoop
    let makeLink: UpstreamConnection.LinkFactory?
    let log: Logger
    var exposure: Exposure
    var phase = Phase.serving
    var upstreams: [UpstreamConnection] {
        didSet { run(gate.serve(upstreams.map(\.name))) }
    }
    var sessions: [ClientSession] = []
    var catalog: Catalog
    /// Progress tokens of forwarded requests: which session asked, and the upstream's request id.
    var progress = ProgressRouter()
    /// Requests held until every upstream has answered its probe or handshake.
    var gate: InitializeGate
    var counters = Counters()
    /// What plugins that report tokens (curate) took in and gave out, per plugin and server.
    public internal(set) var tokenSavings = TokenSavings()
    /// The request ledgers of sessions that have ended, summed.
    var endedSessionsTally = RequestLedger.Tally()
    var drainCompletions: [() -> Void] = []
    var requestsSettledWaiters: [() -> Void] = []
    /// Answered client requests by method and outcome, with latencies.
    public let requestMetrics = RequestMetrics()
    /// Runs plugin chains; nil when no server has any.
    var plugins: PluginRegistry?
    var pluginChain: PluginChain?
    var pluginStepObserver: ((PluginStepReport) -> Void)?
    /// Earlier generations' plugins, still finishing calls that started under them.
    var retiringRegistries: [PluginRegistry] = []
    /// Which configuration is live: bumped by every successful reload.
    public internal(set) var generation = 1
    var nextChainRequestID = 1
    /// Modern clients' calls held at legacy servers that asked for input (the MRTR bridge).
    var heldCalls = HeldCalls()
    /// Modern requests' `_meta`, read once per distinct one in a row.
    var metaReader = RequestMetaReader()
    /// Signs the `requestState` of held calls; its key lives as long as the process.
    let stateTokens = RequestStateToken()
    /// OAuth per remote server, shared by the generations that reach it the same way.
    let authorizations = AuthorizationRegistry()
    var heldCallTimer: EventLoop.TimerID?
    /// Modern servers' public list pages, reused for their `ttlMs`.
    var listCache = ListCache()
    /// List pages being fetched, and the requests waiting for them.
    var listFetches: [ListCache.Key: [ListWaiter]] = [:]
    /// Modern clients' `subscriptions/listen` streams.
    var listens = ListenRegistry()

    /// Rewrites a successful result before it reaches the client (filters, plugin chains).
    typealias PostProcess = (JSONValue, @escaping (Result<JSONValue, ProxyFailure>) -> Void) -> Void

    /// A list request waiting for the same page's fetch to finish.
    struct ListWaiter {
        let session: ClientSession
        let idText: [UInt8]
        let message: [UInt8]
        let envelope: JSONRPCEnvelope
    }

    /// What no request's ledger holds: messages that were not requests, or not valid ones.
    struct Counters {
        var notifications = 0
        var parseErrors = 0
        var invalidRequests = 0
        var answeredLocally = 0
        /// Retries whose `requestState` was forged, expired, replayed or meant for another request.
        var rejectedRequestStates = 0
    }

    public convenience init(config: PlugboardConfig, loop: EventLoop, log: Logger, plugins: PluginRegistry? = nil) {
        self.init(config: config, loop: loop, log: log, plugins: plugins, makeLink: nil)
    }

    /// `makeLink` replaces every upstream's transport (tests drive the core through fake links).
    init(config: PlugboardConfig, loop: EventLoop, log: Logger, plugins: PluginRegistry?, makeLink: UpstreamConnection.LinkFactory?) {
        self.makeLink = makeLink
        self.config = config
        self.plugins = plugins.flatMap { $0.isEmpty ? nil : $0 }
        self.pluginChain = nil
        self.loop = loop
        self.log = log.tagged("proxy")
        let enabled = config.servers.filter(\.enabled)
        exposure = Self.exposure(for: config)
        let authorizations = self.authorizations
        upstreams = enabled.map {
            UpstreamConnection(config: $0, limits: config.limits, loop: loop, log: log, authorizations: authorizations, makeLink: makeLink)
        }
        catalog = Catalog(separator: config.exposure.separator, serverNames: Set(enabled.map(\.name)))
        gate = InitializeGate(servers: enabled.map(\.name))
        pluginChain = self.plugins.map(makeChain)
    }

    /// A chain over `registry` whose plugins' token reports reach `tokenSavings`.
    func makeChain(_ registry: PluginRegistry) -> PluginChain {
        let chain = PluginChain(registry: registry, log: log)
        chain.observer = pluginStepObserver
        chain.onMetadata = { [weak self] plugin, server, metadata in
            self?.tokenSavings.record(plugin: plugin, server: server, metadata: metadata)
        }
        return chain
    }

    /// Runs the requests a gate let through.
    func run(_ released: [() -> Void]) {
        for waiter in released { waiter() }
        if !released.isEmpty { stopUpstreamsIfIdle() }
    }

    static func exposure(for config: PlugboardConfig) -> Exposure {
        let enabled = config.servers.filter(\.enabled)
        switch config.exposure.mode {
        case .transparent: return .transparent
        case .aggregate: return .aggregated(separator: config.exposure.separator)
        case .auto: return enabled.count == 1 ? .transparent : .aggregated(separator: config.exposure.separator)
        }
    }

    /// Hooks an upstream's callbacks to the core and starts its process.
    func wire(_ upstream: UpstreamConnection) {
        upstream.onServerMessage = { [weak self] upstream, message, envelope, related in
            self?.handleUpstreamMessage(message, envelope: envelope, from: upstream, relatedRequest: related)
        }
        upstream.onReady = { [weak self] upstream, afterRestart in
            self?.upstreamBecameReady(upstream, afterRestart: afterRestart)
        }
        upstream.onInitializeFailed = { [weak self] upstream, _ in
            self?.upstreamSettled(upstream)
        }
        upstream.start()
        if let params = gate.upstreamParams { upstream.initialize(with: params) }
    }

    /// Starts every upstream process; they are initialized when the first client initializes.
    public func start() {
        loop.assertInLoop()
        let mode = if case .aggregated(let separator) = exposure { "aggregated (separator \"\(separator)\")" } else { "transparent" }
        log.info("serving \(upstreams.count) upstream server(s), \(mode)")
        plugins?.start()
        for upstream in upstreams { wire(upstream) }
    }

    /// Reports every plugin step (used by `plugboard call`).
    public func observePluginSteps(_ observer: @escaping (PluginStepReport) -> Void) {
        pluginStepObserver = observer
        pluginChain?.observer = observer
    }

    func upstream(named name: String) -> UpstreamConnection? {
        upstreams.first { $0.name == name }
    }

    // MARK: Sessions

    /// Registers a client; `deliver` writes one message to it.
    public func openSession(label: String, deliver: @escaping ([UInt8]) -> Void) -> ClientSession {
        let session = ClientSession(label: label, metrics: requestMetrics, clock: loop.clock, deliver: deliver)
        session.onIdle = { [weak self] in self?.stopUpstreamsIfIdle() }
        sessions.append(session)
        return session
    }

    /// The client is gone: its requests in flight are cancelled upstream and requests the
    /// upstreams sent it are answered with an error.
    public func closeSession(_ session: ClientSession, reason: String) {
        guard session.phase != .closed else { return }
        session.phase = .closed
        sessions.removeAll { $0 === session }
        for (_, request) in session.inFlight {
            if let upstream = request.upstream, let id = request.upstreamID {
                heldCalls.release(HeldCalls.Key(server: upstream.name, upstreamID: id))
                upstream.cancel(id, reason: "client disconnected")
            }
        }
        listens.removeAll(of: session)
        if !session.inFlight.isEmpty {
            log.notice("client \(session.label) went away (\(reason)) with \(session.inFlight.count) request(s) in flight; cancelled them upstream")
        }
        session.inFlight = [:]
        session.abandonAll()
        endedSessionsTally = endedSessionsTally + session.ledger.tally
        for (_, request) in session.serverRequests {
            guard case .upstream(let upstream, let upstreamIDText) = request.asker else { continue }
            upstream.sendResponse(
                JSONRPCMessage.error(
                    idText: upstreamIDText, code: JSONRPCErrorCode.internalError,
                    message: "The client disconnected before answering \(request.method)", data: nil))
        }
        session.serverRequests = [:]
        progress.closeAll(of: session)
    }

    /// A client sent a line longer than `limits.max_message_bytes`; it was discarded unread.
    /// A client message over the limit: answered with its id when its first bytes show one.
    public func receiveOversized(byteCount: Int, head: [UInt8] = [], from session: ClientSession) {
        counters.invalidRequests += 1
        log.warning("client \(session.label) sent a message of \(byteCount) bytes, over limits.max_message_bytes")
        session.send(
            JSONRPCMessage.error(
                idText: JSONRPCEnvelope.id(inPrefix: head)?.jsonBytes, code: JSONRPCErrorCode.invalidRequest,
                message: "Message of \(byteCount) bytes exceeds the limit of \(config.limits.maxMessageBytes) bytes (limits.max_message_bytes)",
                data: nil))
    }

    // MARK: Shutdown

    public var isDraining: Bool { phase != .serving }

    /// Stops taking requests, lets those in flight finish for up to `deadline`, then stops the
    /// upstreams (stdin EOF, SIGTERM, SIGKILL). `completion` runs once every child is reaped.
    public func shutdown(deadline: TimeSpan, completion: @escaping () -> Void) {
        beginDrain(deadline: deadline)
        whenDrained(completion)
    }

    func beginDrain(deadline: TimeSpan) {
        loop.assertInLoop()
        guard phase == .serving else { return }
        let inFlight = sessions.reduce(0) { $0 + $1.pendingRequestCount }
        log.info("shutting down: \(inFlight) request(s) in flight, waiting up to \(deadline)")
        phase = .draining(deadline: loop.schedule(afterNanoseconds: deadline.nanoseconds) { [weak self] in self?.stopUpstreams() })
        closeListens()
        stopUpstreamsIfIdle()
    }

    /// Called whenever a session or the initialize gate may have let go of its last request.
    func stopUpstreamsIfIdle() {
        guard case .draining = phase, isIdle else { return }
        stopUpstreams()
    }

    /// No client request is waiting for an answer.
    private var isIdle: Bool {
        gate.waitingCount == 0 && sessions.allSatisfy(\.isIdle)
    }

    private func stopUpstreams() {
        guard case .draining(let deadline) = phase else { return }
        loop.cancelTimer(deadline)
        phase = .stoppingUpstreams
        if !isIdle {
            let late = sessions.reduce(0) { $0 + $1.pendingRequestCount }
            log.warning("\(late) request(s) still in flight at the shutdown deadline; failing them")
        }
        // Each upstream stops once its requests are answered; those still running are failed now.
        for upstream in upstreams { upstream.stop {} }
        for upstream in upstreams { upstream.terminate() }
        for waiter in requestsSettledWaiters.takeAll() { waiter() }
        var remaining = upstreams.count
        let finish = { [weak self] in
            guard let self else { return }
            for registry in self.retiringRegistries { registry.drain {} }
            if let plugins = self.plugins { plugins.drain { [weak self] in self?.finishDrain() } } else { self.finishDrain() }
        }
        guard remaining > 0 else { return finish() }
        for upstream in upstreams {
            upstream.whenDrained {
                remaining -= 1
                if remaining == 0 { finish() }
            }
        }
    }

    /// Runs `waiter` once a drain has answered every client request (or failed those left at
    /// its deadline): what frontends wait for before they flush and close.
    public func whenRequestsSettled(_ waiter: @escaping () -> Void) {
        switch phase {
        case .serving, .draining: requestsSettledWaiters.append(waiter)
        case .stoppingUpstreams, .stopped: waiter()
        }
    }

    private func finishDrain() {
        phase = .stopped
        for completion in drainCompletions.takeAll() { completion() }
    }
}

extension ProxyCore: Service {
    public var serviceName: String { "the proxy core" }

    /// Drains with `limits.shutdown_timeout` as the deadline for requests in flight.
    public func beginDrain() { beginDrain(deadline: config.limits.shutdownTimeout) }

    public func whenDrained(_ completion: @escaping () -> Void) {
        if phase == .stopped { completion() } else { drainCompletions.append(completion) }
    }

    /// Fails what is in flight and stops the upstreams now.
    public func forceStop() {
        if phase == .serving { beginDrain(deadline: .milliseconds(0)) }
        stopUpstreams()
        for upstream in upstreams { upstream.forceStop() }
    }

    // MARK: Status

    public var status: ProxyStatus {
        var open = 0
        var tally = endedSessionsTally
        for session in sessions {
            open += session.ledger.openCount
            tally = tally + session.ledger.tally
        }
        return ProxyStatus(
            phase: phase.name, generation: generation, isAggregated: exposure != .transparent, sessions: sessions.count,
            notifications: counters.notifications, parseErrors: counters.parseErrors, invalidRequests: counters.invalidRequests,
            accounting: ProxyStatus.Accounting(open: open, tally: tally),
            bridge: ProxyStatus.Bridge(
                heldCalls: heldCalls.count, heldCallsExpired: heldCalls.expiredCount,
                rejectedRequestStates: counters.rejectedRequestStates, subscriptions: listens.count),
            listCache: ProxyStatus.ListCacheStatus(
                entries: listCache.count, hits: listCache.hits, misses: listCache.misses, fetches: listCache.fetches),
            upstreams: upstreams.map(\.status), tokenSavings: tokenSavings, pluginPools: plugins?.poolStatus ?? [], execPlugins: plugins?.execPlugins ?? [])
    }
}

extension ProxyCore {
    /// Whether every upstream is up (started, initializing or ready; not waiting to restart),
    /// and if not, which ones are down and why: what `/readyz` reports.
    public var upstreamReadiness: (isReady: Bool, detail: String) {
        guard phase == .serving else { return (false, "draining") }
        let down = upstreams.filter { !$0.phase.isUp }.map { upstream in
            if case .waitingToRestart(let reason, _, _) = upstream.phase { return "\(upstream.name) (restarting: \(reason))" }
            return "\(upstream.name) (\(upstream.phase.name))"
        }
        if down.isEmpty { return (true, "\(upstreams.count) upstream(s) up") }
        return (false, "upstream(s) down: \(down.joined(separator: ", "))")
    }
}
