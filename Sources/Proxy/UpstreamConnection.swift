import CSystemShims
import Config
import Glibc
import IO
import JSON
import JSONRPC
import Logging
import Processes

/// One upstream MCP server, reached over an `UpstreamLink` (a child process, or HTTP): its
/// pending requests, initialization, health checks and restarts. Loop-confined.
final class UpstreamConnection {
    /// The life of the connection; the link exists only in the phases that carry it.
    enum Phase {
        case idle
        /// `server/discover` was sent to learn whether the server is modern.
        case probing(RunningServer)
        /// A legacy server runs but waits for a client's `initialize` to learn what to announce.
        case spawned(RunningServer)
        case initializing(RunningServer)
        case ready(RunningServer)
        /// Down after `reason`, until the next attempt at `restartAt` (monotonic ns). `failedToStart`:
        /// the server never became ready since its last start, so calls fail at once with the cause
        /// rather than wait for an attempt that is likely to fail the same way.
        case waitingToRestart(reason: String, restartAt: UInt64, failedToStart: Bool)
        case stopping(RunningServer)
        case stopped

        var name: String {
            switch self {
            case .idle: "idle"
            case .probing: "probing"
            case .spawned: "spawned"
            case .initializing: "initializing"
            case .ready: "ready"
            case .waitingToRestart: "restarting"
            case .stopping: "stopping"
            case .stopped: "stopped"
            }
        }

        /// Started, probing, initializing or ready: not waiting to restart, stopping or stopped.
        var isUp: Bool {
            switch self {
            case .probing, .spawned, .initializing, .ready: true
            case .idle, .waitingToRestart, .stopping, .stopped: false
            }
        }

        var server: RunningServer? {
            switch self {
            case .probing(let s), .spawned(let s), .initializing(let s), .ready(let s), .stopping(let s): s
            case .idle, .waitingToRestart, .stopped: nil
            }
        }
    }

    /// One life of the server: the link it was reached over.
    final class RunningServer {
        let link: UpstreamLink
        init(link: UpstreamLink) { self.link = link }
    }

    let config: UpstreamServer
    let limits: Limits
    private let loop: EventLoop
    private let log: Logger
    private(set) var phase = Phase.idle {
        didSet { onPhaseChange?(self) }
    }
    /// Called after every change of `phase`: what a reload waits on for its fresh connections.
    var onPhaseChange: ((UpstreamConnection) -> Void)?
    /// Why the server last failed to start or initialize, for the errors of calls that find it down.
    private(set) var lastFailure: String?
    /// Why plugboard itself is ending the current link (a failed handshake), so that the link's
    /// "aborted" does not hide the cause.
    private var abortCause: String?
    /// The upstream's `initialize` result, once it has answered one.
    private(set) var initializeResult: JSONObject?
    /// A modern upstream's `server/discover` result.
    private(set) var discoverResult: JSONObject?
    /// The server's era, once known; kept across restarts of the same configuration, as the spec suggests.
    private(set) var era: ProtocolEra?
    /// The `subscriptions/listen` request plugboard keeps open on a modern server, for its change notifications.
    private var listenRequest: Int64?
    /// One `subscriptions/listen` per resource a client follows at a modern server.
    private var resourceListens: [String: Int64] = [:]
    private var nextRequestID: Int64 = 1
    private var pending: [Int64: PendingRequest] = [:]
    private var parked: [ParkedRequest] = []
    private var sweepTimer: EventLoop.TimerID?
    private var healthTimer: EventLoop.TimerID?
    private var restartAttempt = 0
    private var failedHealthChecks = 0
    /// When the last health-check ping was answered or failed, and how.
    private var lastHealthCheck: (at: String, passed: Bool)?
    private var initializeParams: JSONValue?
    private var stopCompletions: [() -> Void] = []
    private(set) var counters = Counters()
    /// OAuth toward a remote server; nil for stdio servers and configured `Authorization` headers.
    private(set) var authorization: UpstreamAuthorization?
    private let authorizations: AuthorizationRegistry

    struct Counters {
        var requestsSent = 0
        var responsesReceived = 0
        var timeouts = 0
        var failedByExit = 0
        var restarts = 0
        var unmatchedResponses = 0
        var malformedMessages = 0
    }

    /// Requests and notifications the server sends on its own (not responses).
    /// `relatedRequest`: the upstream id of the call whose answer stream carried it, when known.
    var onServerMessage: (UpstreamConnection, [UInt8], JSONRPCEnvelope, _ relatedRequest: Int64?) -> Void = { _, _, _, _ in }
    /// The server finished `initialize`; `afterRestart` is true when this is not its first life.
    var onReady: (UpstreamConnection, _ afterRestart: Bool) -> Void = { _, _ in }
    /// An initialize attempt failed; the connection will restart with backoff.
    var onInitializeFailed: (UpstreamConnection, String) -> Void = { _, _ in }

    var name: String { config.name }
    var hasPluginChains: Bool { !(config.plugins.request.isEmpty && config.plugins.response.isEmpty) }
    var isReady: Bool { if case .ready = phase { true } else { false } }
    /// Requests waiting for answers, less the long-lived subscription.
    var inFlightCount: Int { pending.count + parked.count - (listenRequest == nil ? 0 : 1) - resourceListens.count }
    var capabilities: JSONObject? {
        (era == .modern ? discoverResult : initializeResult)?["capabilities"]?.objectValue
    }
    var isModern: Bool { era == .modern }
    /// The revision spoken with the server, once known.
    var protocolVersion: String? {
        switch era {
        case .modern: ProtocolVersion.latestModern
        case .legacy: initializeResult?["protocolVersion"]?.stringValue
        case nil: nil
        }
    }
    /// The server's name and version as it reports them.
    var serverInfo: JSONValue? {
        era == .modern ? discoverResult?["_meta"]?[RequestMeta.serverInfoKey] : initializeResult?["serverInfo"]
    }
    var instructions: String? { (era == .modern ? discoverResult : initializeResult)?["instructions"]?.stringValue }

    /// Makes the link of each life of a server; tests hand in fakes.
    typealias LinkFactory = (UpstreamServer) -> UpstreamLink
    private let makeLink: LinkFactory?

    init(
        config: UpstreamServer, limits: Limits, loop: EventLoop, log: Logger, authorizations: AuthorizationRegistry = AuthorizationRegistry(),
        makeLink: LinkFactory? = nil
    ) {
        self.config = config
        self.makeLink = makeLink
        self.limits = limits
        self.loop = loop
        self.log = log.tagged("upstream:\(config.name)")
        self.authorizations = authorizations
        authorization = authorizations.acquire(for: config, loop: loop, log: self.log.tagged("oauth"))
        authorization?.observe(self) { [weak self] in self?.restartSoonIfDown() }
    }

    /// New credentials: a server that is down (for want of them, most likely) is tried again now.
    private func restartSoonIfDown() {
        guard case .waitingToRestart = phase else { return }
        log.notice("new credentials: restarting now")
        restartAttempt = 0
        counters.restarts += 1
        spawn()
    }

    // MARK: Lifecycle

    /// Starts the process; it is initialized when `initialize(with:)` is called.
    func start() {
        spawn()
    }

    /// Sends `initialize` with the client's parameters (protocol version, capabilities, client
    /// info); remembered so that a restarted server is initialized the same way.
    func initialize(with params: JSONValue) {
        initializeParams = params
        if case .spawned(let server) = phase { sendInitialize(on: server) }
    }

    /// Stops taking requests; once `pending` drains (or `terminate()` is called) the process is
    /// closed, then signalled; `completion` runs once it has been reaped.
    func stop(completion: @escaping () -> Void) {
        whenDrained(completion)
        beginDrain()
    }

    func beginDrain() {
        failParked(with: { .shuttingDown(method: $0) })
        cancelTimers()
        // Subscriptions never end by themselves; they must not hold the drain open.
        for id in [listenRequest].compactMap({ $0 }) + resourceListens.values {
            cancel(id, reason: "plugboard is stopping")
        }
        listenRequest = nil
        resourceListens = [:]
        switch phase {
        case .probing(let server), .spawned(let server), .initializing(let server), .ready(let server):
            phase = .stopping(server)
            if pending.isEmpty { terminate() }
        case .stopping:
            break
        case .idle, .waitingToRestart, .stopped:
            phase = .stopped
            finishStop()
        }
    }

    func whenDrained(_ completion: @escaping () -> Void) {
        if case .stopped = phase { completion() } else { stopCompletions.append(completion) }
    }

    /// Fails what is pending and ends the server at once, without the polite steps.
    func forceStop() {
        if case .stopping = phase {} else { beginDrain() }
        guard case .stopping(let server) = phase else { return }
        failPending(with: { .shuttingDown(method: $0) })
        server.link.abort()
    }

    /// Ends the server now (for a process: EOF on its stdin, then SIGTERM after 2 s, then SIGKILL after 3 s more).
    func terminate() {
        guard case .stopping(let server) = phase else { return }
        failPending(with: { .shuttingDown(method: $0) })
        server.link.close()
    }

    private func finishStop() {
        if let authorization {
            authorization.forget(self)
            authorizations.release(authorization)
            self.authorization = nil
        }
        for completion in stopCompletions.takeAll() { completion() }
    }

    private func spawn() {
        startLink(RunningServer(link: makeLink?(config) ?? makeRealLink()))
    }

    private func makeRealLink() -> UpstreamLink {
        let link: UpstreamLink
        switch config.transport {
        case .stdio(let command, let arguments, let environment, let workingDirectory):
            let stdio = StdioLink(
                command: command, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
                limits: limits, loop: loop, log: log)
            stdio.onOversizedMessage = { [weak self, limits] size, head in
                self?.refuseAnswer(
                    head, because: "its answer was \(size) bytes, over limits.max_message_bytes (\(limits.maxMessageBytes))")
            }
            link = stdio
        case .streamableHTTP(let url):
            link = StreamableHTTPLink(url: url, options: config.remote, authorization: authorization, limits: limits, loop: loop, log: log)
        case .legacySSE(let url):
            link = LegacySSELink(url: url, options: config.remote, authorization: authorization, limits: limits, loop: loop, log: log)
        }
        return link
    }

    private func startLink(_ server: RunningServer) {
        let link = server.link
        link.onMessage = { [weak self] message, related in self?.receive(message, relatedRequest: related) }
        link.onClosed = { [weak self, weak server] reason in
            guard let self, let server else { return }
            self.linkClosed(server, reason: reason)
        }
        phase = .spawned(server)
        link.open()
        guard case .spawned = phase else { return }
        switch config.protocolPreference {
        case .pinned(let version) where ProtocolVersion.isModern(version):
            probe(server, fallBackToLegacy: false)
        case .pinned:
            era = .legacy
            if initializeParams != nil { sendInitialize(on: server) }
        case .auto:
            if case .legacySSE = config.transport { era = .legacy }  // HTTP+SSE is 2024-11-05's transport
            if era == .legacy {
                if initializeParams != nil { sendInitialize(on: server) }
            } else {
                probe(server, fallBackToLegacy: true)
            }
        }
    }

    /// Asks `server/discover` as a dual-era client does: a discover result (or a modern error
    /// naming versions) means modern; any other error, or silence, means legacy.
    private func probe(_ server: RunningServer, fallBackToLegacy: Bool) {
        phase = .probing(server)
        let id = takeRequestID()
        let message = JSONRPCMessage.request(
            id: .number(id), method: MCPMethod.discover, params: ["_meta": .object(RequestMeta.plugboard.entries)])
        let now = loop.now()
        let timeout = config.discoverTimeout
        pending[id] = PendingRequest(
            method: MCPMethod.discover,
            onReply: { [weak self] reply in self?.probeReplied(reply, server: server, fallBackToLegacy: fallBackToLegacy) },
            deadline: now + timeout.nanoseconds, hardDeadline: now + timeout.nanoseconds, timeoutSeconds: timeout.seconds)
        _ = server.link.send(message)
        armSweep()
    }

    private func probeReplied(_ reply: UpstreamReply, server: RunningServer, fallBackToLegacy: Bool) {
        guard case .probing(let current) = phase, current === server else { return }
        // Refused for want of authorization: that says nothing of the server's era.
        if let reason = authorization?.blockingReason { return initializeFailed(server, reason: reason) }
        switch DiscoverVerdict(reply) {
        case .modern(let result):
            era = .modern
            discoverResult = result
            becameReady(server, protocolVersion: ProtocolVersion.latestModern)
        case .modernWithoutOurVersion(let supported):
            if fallBackToLegacy && supported.contains(where: { ProtocolVersion.legacy.contains($0) }) {
                fallBackToInitialize(server, because: "it does not speak \(ProtocolVersion.latestModern) (it lists \(supported.joined(separator: ", ")))")
            } else {
                initializeFailed(server, reason: "it speaks only \(supported.joined(separator: ", ")), none of which plugboard speaks")
            }
        case .legacy(let why):
            guard fallBackToLegacy else {
                return initializeFailed(server, reason: "server/discover failed (\(why)), and `protocol` pins \(ProtocolVersion.latestModern)")
            }
            fallBackToInitialize(server, because: why)
        }
    }

    private func fallBackToInitialize(_ server: RunningServer, because why: String) {
        era = .legacy
        log.debug("legacy server (\(why)); it is initialized when the first client arrives")
        phase = .spawned(server)
        if initializeParams != nil { sendInitialize(on: server) }
    }

    private func sendInitialize(on server: RunningServer) {
        guard case .spawned = phase, let params = initializeParams else { return }
        phase = .initializing(server)
        let id = takeRequestID()
        let message = JSONRPCMessage.request(id: .number(id), method: MCPMethod.initialize, params: params)
        let now = loop.now()
        let timeout = limits.initializeTimeout
        pending[id] = PendingRequest(
            method: MCPMethod.initialize,
            onReply: { [weak self] reply in self?.initializeReplied(reply, server: server) },
            deadline: now + timeout.nanoseconds, hardDeadline: now + timeout.nanoseconds,
            timeoutSeconds: timeout.seconds)
        _ = server.link.send(message)
        armSweep()
    }

    private func initializeReplied(_ reply: UpstreamReply, server: RunningServer) {
        guard case .initializing(let current) = phase, current === server else { return }
        switch reply {
        case .failed(let failure):
            initializeFailed(server, reason: failure.description)
        case .response(let bytes, let envelope):
            guard envelope.kind == .successResponse,
                let result = (try? JSONParser.parse(bytes))?["result"]?.objectValue
            else {
                let reason = ((try? JSONParser.parse(bytes))?["error"]).map { error in
                    error["message"]?.stringValue.map { "it answered error \(error["code"]?.serializedString ?? "?"): \($0)" } ?? "it answered \(error.serializedString)"
                }
                initializeFailed(server, reason: reason ?? "its answer was not a valid initialize result")
                return
            }
            initializeResult = result
            _ = server.link.send(JSONRPCMessage.notification(method: MCPMethod.initialized, params: nil))
            becameReady(server, protocolVersion: result["protocolVersion"]?.stringValue ?? "?")
        }
    }

    private func becameReady(_ server: RunningServer, protocolVersion: String) {
        let afterRestart = counters.restarts > 0
        restartAttempt = 0
        failedHealthChecks = 0
        phase = .ready(server)
        lastFailure = nil
        let serverName = serverInfo?["name"]?.stringValue ?? "?"
        log.info(era == .modern ? "ready (modern: stateless, no initialize)" : "initialized", ["protocol": protocolVersion, "server": serverName])
        flushParked(on: server)
        armHealthCheck()
        if era == .modern { listenForChanges(on: server) }
        onReady(self, afterRestart)
    }

    /// Follows `uri` at a modern server with a `subscriptions/listen` of its own, so that its
    /// `notifications/resources/updated` reach the core as a legacy server's would.
    func follow(resource uri: String) {
        guard isModern, resourceListens[uri] == nil else { return }
        resourceListens[uri] = openListen(["resourceSubscriptions": [.string(uri)]]) { [weak self] _ in self?.resourceListens[uri] = nil }
    }

    func unfollow(resource uri: String) {
        guard let id = resourceListens.removeValue(forKey: uri) else { return }
        cancel(id, reason: "no client follows \(uri) any more")
    }

    /// Keeps one `subscriptions/listen` open on a modern server for the change notifications its
    /// capabilities promise; they reach the core like a legacy server's.
    private func listenForChanges(on server: RunningServer) {
        let offered = capabilities ?? [:]
        var filter: JSONObject = [:]
        if offered["tools"]?["listChanged"]?.boolValue == true { filter["toolsListChanged"] = true }
        if offered["prompts"]?["listChanged"]?.boolValue == true { filter["promptsListChanged"] = true }
        if offered["resources"]?["listChanged"]?.boolValue == true { filter["resourcesListChanged"] = true }
        guard !filter.isEmpty else { return }
        listenRequest = openListen(filter) { [weak self, weak server] reply in
            guard let self, let server, case .ready(let current) = self.phase, current === server else { return }
            self.listenRequest = nil
            if case .failed(let failure) = reply { self.log.debug("subscriptions/listen ended: \(failure)") }
            self.loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self, weak server] in
                guard let self, let server, case .ready(let current) = self.phase, current === server else { return }
                self.listenForChanges(on: server)
            }
        }
    }

    /// A `subscriptions/listen` of plugboard's own with the filter `notifications`: it has no
    /// timeout, as a subscription lasts until one side ends it. Returns its id, if it was sent.
    private func openListen(_ notifications: JSONObject, onEnd: @escaping (UpstreamReply) -> Void) -> Int64? {
        let params: JSONValue = ["_meta": .object(RequestMeta.plugboard.entries), "notifications": .object(notifications)]
        let sent = send(
            method: MCPMethod.subscriptionsListen, timeout: .seconds(10 * 365 * 86_400),
            build: { JSONRPCMessage.request(idText: $0, method: MCPMethod.subscriptionsListen, params: params) },
            onReply: onEnd)
        if case .success(let id) = sent { return id }
        return nil
    }

    private func initializeFailed(_ server: RunningServer, reason: String) {
        log.error("initialize failed: \(reason)")
        lastFailure = reason
        onInitializeFailed(self, reason)
        abortCause = reason
        server.link.abort()
    }

    private func linkClosed(_ server: RunningServer, reason: String) {
        guard phase.server === server else { return }
        failPending(with: { [name] method in .upstreamExited(server: name, method: method, status: reason) })
        if case .stopping = phase {
            log.info("stopped (\(reason))")
            phase = .stopped
            finishStop()
            return
        }
        let wasReady = if case .ready = phase { true } else { false }
        let cause = abortCause ?? reason
        let announced = abortCause != nil
        abortCause = nil
        if !announced { log.error("exited unexpectedly (\(reason))") }
        scheduleRestart(reason: cause, failedToStart: !wasReady)
        // A server that ends before it was ever ready has settled, as down: nobody waits for it.
        if !wasReady && !announced {
            lastFailure = cause
            onInitializeFailed(self, cause)
        }
    }

    private func scheduleRestart(reason: String, failedToStart: Bool) {
        cancelTimers()
        let initial = max(config.restartBackoffInitial.milliseconds, 1)
        let delayMs = min(initial << min(restartAttempt, 20), config.restartBackoffMax.milliseconds)
        restartAttempt += 1
        let restartAt = loop.now() + UInt64(delayMs) * 1_000_000
        phase = .waitingToRestart(reason: reason, restartAt: restartAt, failedToStart: failedToStart)
        log.notice("restarting in \(TimeSpan(milliseconds: delayMs)) (attempt \(restartAttempt))")
        if failedToStart {
            failParked(with: { [name] method in .upstreamUnavailable(server: name, method: method, reason: downReason(reason, restartAt: restartAt)) })
        }
        loop.schedule(afterNanoseconds: UInt64(delayMs) * 1_000_000) { [weak self] in
            guard let self, case .waitingToRestart = self.phase else { return }
            self.counters.restarts += 1
            self.spawn()
        }
        armSweep()
    }

    /// "it is not running: <cause>; next attempt in 4 s", for calls that find the server down.
    func downReason(_ cause: String, restartAt: UInt64) -> String {
        let now = loop.now()
        let seconds = restartAt > now ? Double(restartAt - now) / 1e9 : 0
        let next = seconds < 1 ? "under a second" : "\(Int(seconds.rounded(.up))) s"
        return "it is not running: \(cause); next attempt in \(next)"
    }

    // MARK: Requests

    /// Sends a request built around the id the connection picks; parks it while the server is
    /// starting. Returns the upstream id, usable with `cancel(_:reason:)`, or the failure.
    /// `meta` stands for the client a modern server is told about when the request carries no
    /// modern fields of its own (a legacy client's call); plugboard's own identity otherwise.
    func send(
        method: String, timeout: TimeSpan? = nil, meta: RequestMeta? = nil, build: @escaping (_ idText: [UInt8]) -> [UInt8],
        onReply: @escaping (UpstreamReply) -> Void
    ) -> Result<Int64, ProxyFailure> {
        let build = { [weak self] (idText: [UInt8]) -> [UInt8] in
            let message = build(idText)
            return self?.adapted(message, meta: meta) ?? message
        }
        guard inFlightCount < limits.maxInFlightPerUpstream else {
            return .failure(.tooManyInFlight(server: name, limit: limits.maxInFlightPerUpstream))
        }
        let timeout = timeout ?? config.requestTimeout
        let id = takeRequestID()
        let now = loop.now()
        switch phase {
        case .ready(let server):
            let message = build(Self.idText(id))
            switch server.link.send(message) {
            case .written, .queued: break
            case .peerNotReading(let queued):
                return .failure(.upstreamNotReading(server: name, method: method, queuedBytes: queued))
            case .closed:
                return .failure(.upstreamUnavailable(server: name, method: method, reason: "its connection is closed"))
            }
            counters.requestsSent += 1
            pending[id] = PendingRequest(
                method: method, onReply: onReply, deadline: now + timeout.nanoseconds,
                hardDeadline: now + 10 * timeout.nanoseconds, timeoutSeconds: timeout.seconds)
        case .waitingToRestart(let reason, let restartAt, failedToStart: true):
            return .failure(.upstreamUnavailable(server: name, method: method, reason: downReason(reason, restartAt: restartAt)))
        case .idle, .probing, .spawned, .initializing, .waitingToRestart:
            parked.append(
                ParkedRequest(
                    method: method, build: build, onReply: onReply, deadline: now + timeout.nanoseconds,
                    timeoutSeconds: timeout.seconds, id: id))
        case .stopping, .stopped:
            return .failure(.shuttingDown(method: method))
        }
        armSweep()
        return .success(id)
    }

    /// A request as this server's era wants it: a modern server needs the per-request fields, a
    /// legacy one must not see them (a dual-era server would take them as modern).
    ///
    /// A server found legacy by the probe speaks no modern revision and ignores the reserved
    /// `_meta` keys, so its requests pass untouched; only a pinned legacy revision, which may
    /// front a dual-era server, has them removed.
    private func adapted(_ message: [UInt8], meta: RequestMeta?) -> [UInt8] {
        switch era {
        case .modern:
            guard !message[...].contains(subsequence: RequestMeta.protocolVersionKeyBytes),
                let parsed = try? JSONParser.parse(message), parsed["method"] != nil, parsed["id"] != nil
            else { return message }
            return parsed.addingRequestMeta(meta ?? .plugboard).serialized()
        case .legacy, nil:
            guard case .pinned = config.protocolPreference, message[...].contains(subsequence: RequestMeta.reservedPrefixBytes),
                let parsed = try? JSONParser.parse(message), parsed["method"] != nil
            else { return message }
            return parsed.removingRequestMeta().serialized()
        }
    }

    /// Forwards a notification when the server is ready; returns false otherwise.
    @discardableResult
    func sendNotification(_ message: [UInt8]) -> Bool {
        guard case .ready(let server) = phase else { return false }
        return server.link.send(message) != .closed
    }

    /// Sends a response to one of the server's own requests.
    func sendResponse(_ message: [UInt8]) {
        _ = phase.server?.link.send(message)
    }

    /// Forgets a request the client cancelled and tells the server, as the spec asks.
    func cancel(_ id: Int64, reason: String?) {
        if parked.contains(where: { $0.id == id }) {
            parked.removeAll { $0.id == id }
            return
        }
        guard pending.removeValue(forKey: id) != nil else { return }
        var params: JSONObject = ["requestId": .number(JSONNumber(id))]
        if let reason { params["reason"] = .string(reason) }
        sendNotification(JSONRPCMessage.notification(method: MCPMethod.cancelled, params: .object(params)))
    }

    /// A progress notification arrived for request `id`: the spec lets it reset the timeout.
    func noteProgress(for id: Int64) {
        guard var request = pending[id] else { return }
        request.deadline = min(loop.now() + UInt64(request.timeoutSeconds * 1e9), request.hardDeadline)
        pending[id] = request
    }

    private func takeRequestID() -> Int64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }

    static func idText(_ id: Int64) -> [UInt8] { Array(String(id).utf8) }

    // MARK: Incoming

    private func receive(_ message: [UInt8], relatedRequest: Int64?) {
        let envelope: JSONRPCEnvelope
        do {
            envelope = try JSONRPCEnvelope.scan(message)
        } catch {
            log.error("sent an invalid JSON-RPC message (\(error)); discarded: \(Self.preview(message))")
            refuseAnswer(message, because: "its answer was not valid JSON-RPC (\(error))")
            return
        }
        switch envelope.kind {
        case .successResponse, .errorResponse:
            guard case .number(let id)? = envelope.id, let request = pending.removeValue(forKey: id) else {
                counters.unmatchedResponses += 1
                if case .number(let id)? = envelope.id, id > 0, id < nextRequestID {
                    log.debug("answered request \(id) after it was cancelled or timed out; dropped")
                } else {
                    log.warning("sent a response with an id plugboard never used; dropped: \(Self.preview(message))")
                }
                return
            }
            counters.responsesReceived += 1
            request.onReply(.response(message, envelope))
            drainedIfStopping()
        case .request, .notification:
            onServerMessage(self, message, envelope, relatedRequest)
        }
    }

    /// A message plugboard had to discard: if it answers a pending request, that request fails
    /// now with the true cause instead of waiting for its timeout.
    private func refuseAnswer(_ bytes: [UInt8], because reason: String) {
        counters.malformedMessages += 1
        guard case .number(let id)? = JSONRPCEnvelope.id(inPrefix: bytes), let request = pending.removeValue(forKey: id) else { return }
        request.onReply(.failed(.upstreamAnswerRefused(server: name, method: request.method, reason: reason)))
        drainedIfStopping()
    }

    static func preview(_ message: [UInt8]) -> String {
        let head = printableLine(Array(message.prefix(200)))
        return message.count > 200 ? head + "… (\(message.count) bytes)" : head
    }

    // MARK: Timers

    private func armSweep() {
        guard sweepTimer == nil, !(pending.isEmpty && parked.isEmpty) else { return }
        sweepTimer = loop.schedule(afterNanoseconds: 100_000_000) { [weak self] in
            guard let self else { return }
            self.sweepTimer = nil
            self.expireOverdueRequests()
            self.armSweep()
        }
    }

    private func expireOverdueRequests() {
        let now = loop.now()
        let overdue = pending.filter { $0.value.deadline <= now }
        for (id, request) in overdue {
            pending[id] = nil
            counters.timeouts += 1
            log.warning("did not answer \(request.method) within \(TimeSpan(milliseconds: Int64(request.timeoutSeconds * 1000)))", ["id": "\(id)"])
            if request.method != MCPMethod.initialize && !(request.method == MCPMethod.discover && era == nil) {
                let params: JSONObject = ["requestId": .number(JSONNumber(id)), "reason": "timed out in plugboard"]
                sendNotification(JSONRPCMessage.notification(method: MCPMethod.cancelled, params: .object(params)))
            }
            request.onReply(.failed(.timedOut(server: name, method: request.method, seconds: request.timeoutSeconds)))
        }
        if !overdue.isEmpty { drainedIfStopping() }
        let (expired, waiting) = parked.partitioned { $0.deadline <= now }
        parked = waiting
        for request in expired {
            counters.timeouts += 1
            let reason = if case .waitingToRestart(let why, _, _) = phase { "it is restarting after: \(why)" } else { "it is still starting" }
            request.onReply(.failed(.upstreamUnavailable(server: name, method: request.method, reason: reason)))
        }
    }

    private func armHealthCheck() {
        guard config.healthCheckInterval.milliseconds > 0 else { return }
        if let healthTimer { loop.cancelTimer(healthTimer) }
        healthTimer = loop.schedule(afterNanoseconds: config.healthCheckInterval.nanoseconds) { [weak self] in
            self?.healthTimer = nil
            self?.checkHealth()
        }
    }

    private func checkHealth() {
        guard case .ready(let server) = phase else { return }
        // Modern revisions have no ping; server/discover is the cheapest request they must answer.
        let method = era == .modern ? MCPMethod.discover : MCPMethod.ping
        let result = send(
            method: method, timeout: config.healthCheckTimeout,
            build: { JSONRPCMessage.request(idText: $0, method: method, params: nil) },
            onReply: { [weak self] reply in
                guard let self else { return }
                self.lastHealthCheck = (Timestamp.now(withMilliseconds: false), { if case .failed = reply { false } else { true } }())
                if case .failed(let failure) = reply {
                    self.failedHealthChecks += 1
                    self.log.warning("health check failed (\(self.failedHealthChecks) in a row): \(failure)")
                    if self.failedHealthChecks >= 3, case .ready(let current) = self.phase, current === server {
                        self.log.error("unhealthy after 3 failed health checks; restarting it")
                        server.link.abort()
                    }
                } else {
                    self.failedHealthChecks = 0
                }
                self.armHealthCheck()
            })
        if case .failure = result { armHealthCheck() }
    }

    var isHealthy: Bool { isReady && failedHealthChecks == 0 }

    private func cancelTimers() {
        if let healthTimer { loop.cancelTimer(healthTimer) }
        healthTimer = nil
    }

    // MARK: Failing what is outstanding

    private func flushParked(on server: RunningServer) {
        let waiting = parked
        parked = []
        let now = loop.now()
        for request in waiting {
            let message = request.build(Self.idText(request.id))
            guard server.link.send(message) != .closed else {
                request.onReply(.failed(.upstreamUnavailable(server: name, method: request.method, reason: "its connection is closed")))
                continue
            }
            counters.requestsSent += 1
            let remaining = request.deadline > now ? request.deadline - now : 0
            pending[request.id] = PendingRequest(
                method: request.method, onReply: request.onReply, deadline: request.deadline,
                hardDeadline: request.deadline + 9 * remaining, timeoutSeconds: request.timeoutSeconds)
        }
        armSweep()
    }

    private func failPending(with failure: (String) -> ProxyFailure) {
        let outstanding = pending
        pending = [:]
        counters.failedByExit += outstanding.count
        for (_, request) in outstanding.sorted(by: { $0.key < $1.key }) {
            request.onReply(.failed(failure(request.method)))
        }
    }

    private func failParked(with failure: (String) -> ProxyFailure) {
        for request in parked.takeAll() { request.onReply(.failed(failure(request.method))) }
    }

    private func drainedIfStopping() {
        if case .stopping = phase, pending.isEmpty { terminate() }
    }

    var status: UpstreamStatus {
        UpstreamStatus(
            name: name, phase: phase.name, isUp: phase.isUp, era: era?.rawValue, protocolVersion: protocolVersion,
            processID: phase.server?.link.processID, endpoint: phase.server?.link.endpoint, inFlight: inFlightCount,
            restarts: counters.restarts, timeouts: counters.timeouts, requestsSent: counters.requestsSent,
            responsesReceived: counters.responsesReceived, failedByExit: counters.failedByExit,
            unmatchedResponses: counters.unmatchedResponses, malformedMessages: counters.malformedMessages,
            isHealthy: isHealthy, lastHealthCheck: lastHealthCheck, oauth: authorization?.status)
    }
}

extension UpstreamConnection: Service {
    var serviceName: String { "upstream '\(name)'" }
}

extension Array {
    fileprivate func partitioned(by belongsInFirst: (Element) -> Bool) -> ([Element], [Element]) {
        var first: [Element] = []
        var second: [Element] = []
        for element in self {
            if belongsInFirst(element) { first.append(element) } else { second.append(element) }
        }
        return (first, second)
    }
}

/// What a `server/discover` probe's answer says of the server's era (basic/versioning.mdx).
enum DiscoverVerdict {
    case modern(JSONObject)
    /// A modern error that names versions, none of them ours.
    case modernWithoutOurVersion([String])
    case legacy(String)

    init(_ reply: UpstreamReply) {
        switch reply {
        case .failed(let failure):
            self = .legacy("\(failure)")
        case .response(let bytes, let envelope):
            let parsed = try? JSONParser.parse(bytes)
            if envelope.kind == .successResponse, let result = parsed?["result"]?.objectValue {
                let versions = result["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if versions.contains(where: ProtocolVersion.isModern) {
                    self = .modern(result)
                } else {
                    self = .legacy("its discover result lists no modern version")
                }
                return
            }
            let error = parsed?["error"]
            if error?["code"]?.int64Value == Int64(JSONRPCErrorCode.unsupportedProtocolVersion),
                let supported = error?["data"]?["supported"]?.arrayValue?.compactMap(\.stringValue), !supported.isEmpty
            {
                self = supported.contains(where: ProtocolVersion.isModern) ? .modern([:]) : .modernWithoutOurVersion(supported)
                return
            }
            self = .legacy("it answered server/discover with \(error.map { $0.serializedString } ?? "no result")")
        }
    }
}
