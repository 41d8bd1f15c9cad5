import Config
import HTTP
import IO
import JSON
import JSONRPC
import Logging
import Network
import Proxy
import TLS

/// Serves MCP over Streamable HTTP (spec 2025-11-25; 2025-06-18 and 2025-03-26 clients too):
/// POST carries one client message, GET opens the session's stream for server-initiated
/// messages, DELETE ends the session. Each HTTP session is its own session of the proxy core.
public final class StreamableHTTPFrontend {
    /// Counts for `/metrics` and the status dump.
    public struct Counters: Sendable {
        public var sessionsOpened = 0
        public var sessionsExpired = 0
        public var sessionsDeleted = 0
        public var responsesByStatus: [Int: Int] = [:]
        public var resumptions = 0
    }

    let settings: HTTPSettings
    let core: ProxyCore
    /// `beginDrain()` was called.
    var isDraining = false
    let loop: EventLoop
    let log: Logger
    let gate: RequestGate
    /// Answers `/healthz`, `/readyz`, `/metrics` and `/status` on this listener, when set.
    let admin: AdminEndpoints?
    private(set) var server: HTTPServer!
    var sessions: [String: HTTPSession] = [:]
    /// Modern requests being answered, each its own core session.
    var modernCalls: [ObjectIdentifier: ModernCall] = [:]
    var nextModernCall = 0
    public internal(set) var counters = Counters()
    private var sweepTimer: EventLoop.TimerID?
    /// What HTTPS listeners present, rotated when the files change.
    public private(set) var certificates: TLSCertificates?
    /// Whether every listener is on loopback, which turns on the `Host` check.
    private var allLoopback = true
    var accepting = true

    /// `inherited`: sockets already listening on some of the addresses, bound by plugboard's
    /// outer process.
    public init(
        settings: HTTPSettings, inherited: [ListenAddress: Int32] = [:], maxMessageBytes: Int, maxQueuedBytes: Int, token: [UInt8]?,
        core: ProxyCore, loop: EventLoop, log: Logger, admin: AdminEndpoints?
    ) {
        self.settings = settings
        inheritedListeners = inherited
        self.core = core
        self.loop = loop
        self.log = log.tagged("http")
        self.admin = admin
        self.gate = RequestGate(allowedOrigins: settings.allowedOrigins, token: token)
        var limits = HTTPLimits()
        limits.maxHeaderBytes = settings.maxHeaderBytes
        limits.maxHeaderCount = settings.maxHeaderCount
        limits.maxBodyBytes = settings.maxBodyBytes ?? maxMessageBytes
        let serverSettings = HTTPServer.Settings(
            limits: limits, maxConnections: settings.maxConnections, headerTimeout: settings.headerTimeout.nanoseconds,
            idleTimeout: settings.idleTimeout.nanoseconds, writeTimeout: settings.writeTimeout.nanoseconds, maxQueuedBytes: maxQueuedBytes)
        server = HTTPServer(loop: loop, settings: serverSettings, log: self.log) { [unowned self] exchange in handle(exchange) }
    }

    /// Binds every `listen` and `tls_listen` address; returns the bound ones (real ports for port 0).
    public func startListening() throws -> [ListenAddress] {
        if let paths = settings.tlsCertificate, !settings.tlsListen.isEmpty {
            certificates = try TLSCertificates(certificateFile: paths.certificateFile, keyFile: paths.keyFile)
            scheduleCertificateCheck()
        }
        var bound: [ListenAddress] = []
        let listeners = settings.listen.map { ($0, nil as TLSCertificates?) } + settings.tlsListen.map { ($0, certificates) }
        for (address, tls) in listeners {
            let actual = try server.listen(on: address, inherited: inheritedListeners.removeValue(forKey: address), tls: tls)
            bound.append(actual)
            if tls != nil { tlsAddresses.append(actual) }
            log.info("listening on \(Self.url(of: actual, tls: tls != nil, path: settings.path))")
            if !actual.isLoopback {
                log.warning("\(actual) is reachable from other machines\(gate.token == nil ? " and no bearer token is configured (auth_token_env / auth_token_file)" : "")")
            }
        }
        allLoopback = bound.allSatisfy(\.isLoopback)
        scheduleSweep()
        return bound
    }

    /// `http://host:port/path` or `https://…` for a bound address.
    public static func url(of address: ListenAddress, tls: Bool, path: String) -> String {
        "\(tls ? "https" : "http")://\(address.family == .ipv6 ? "[\(address.host)]" : address.host):\(address.port)\(path)"
    }

    /// The DNS-rebinding defence of the SDK servers: a page on some other name that resolves to
    /// this machine must not reach a loopback endpoint. Loopback names pass on any port; an
    /// `allowed_hosts` entry matches the name on any port, or exactly with its `:port`.
    static func hostAllowed(_ host: String?, allowed: [String], checked: Bool) -> Bool {
        guard checked, !allowed.contains("*") else { return true }
        guard let host = host?.lowercased(), !host.isEmpty else { return false }
        let name = Self.hostName(host)
        if name == "localhost" || name == "::1" || name.hasPrefix("127.") { return true }
        return allowed.contains { entry in
            let entry = entry.lowercased()
            return entry == host || (Self.hostName(entry) == entry && entry == name)
        }
    }

    /// The name in a `Host` value, without its port or IPv6 brackets.
    private static func hostName(_ host: String) -> String {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return String(host[host.index(after: host.startIndex)..<close]) }
        if let colon = host.lastIndex(of: ":"), !host[..<colon].contains(":") { return String(host[..<colon]) }
        return host
    }

    private var inheritedListeners: [ListenAddress: Int32]

    /// The bound addresses that speak TLS.
    public private(set) var tlsAddresses: [ListenAddress] = []

    /// Certificate files are checked once a second with stat, which follows the symlinks that
    /// certbot and Kubernetes swap, where watching the directory would not.
    private func scheduleCertificateCheck() {
        loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self] in
            guard let self, let certificates else { return }
            certificates.reloadIfChanged(log: log)
            scheduleCertificateCheck()
        }
    }

    public var addresses: [ListenAddress] { server.addresses }
    public var sessionCount: Int { sessions.count }
    public var connectionCount: Int { server.connectionCount }
    public var httpCounters: HTTPServer.Counters { server.counters }

    // MARK: Requests

    private func handle(_ exchange: HTTPExchange) {
        let head = exchange.request.head
        if let admin, admin.serves(path: head.path) {
            if let refusal = gate.check(head.headers), admin.requiresToken(path: head.path) || refusal.isOriginRefusal {
                return refuse(exchange, refusal)
            }
            return admin.handle(exchange)
        }
        guard head.path == settings.path else {
            return fail(exchange, status: 404, "no MCP endpoint at \(head.path); it is at \(settings.path)")
        }
        if let refusal = gate.check(head.headers) { return refuse(exchange, refusal) }
        guard Self.hostAllowed(head.headers["Host"], allowed: settings.allowedHosts, checked: allLoopback || !settings.allowedHosts.isEmpty) else {
            return fail(
                exchange, status: 421,
                "Host \(head.headers["Host"].map { "'\(printableLine(Array($0.utf8.prefix(100))))'" } ?? "(none)") is not allowed; add it to [http] allowed_hosts")
        }
        let modernWithoutSession = head.headers["Mcp-Session-Id"] == nil
            && head.headers["MCP-Protocol-Version"].map(ProtocolVersion.isModern) == true
        switch head.method {
        case "POST": post(exchange)
        case "GET" where modernWithoutSession, "DELETE" where modernWithoutSession:
            // 2026-07-28 has no GET stream and no sessions to end (streamable-http.mdx).
            var headers = HTTPHeaders()
            headers.set("Allow", "POST")
            fail(exchange, status: 405, "\(head.method) is not part of MCP 2026-07-28; use subscriptions/listen", headers: headers)
        case "GET": get(exchange)
        case "DELETE": delete(exchange)
        default:
            var headers = HTTPHeaders()
            headers.set("Allow", "GET, POST, DELETE")
            fail(exchange, status: 405, "method \(head.method) is not allowed on \(settings.path)", headers: headers)
        }
    }

    private func post(_ exchange: HTTPExchange) {
        let headers = exchange.request.head.headers
        let accepted = Set(headers.tokens(for: "Accept"))
        guard accepted.contains("*/*") || (accepted.contains("application/json") && accepted.contains("text/event-stream")) else {
            return fail(exchange, status: 406, "Accept must list both application/json and text/event-stream")
        }
        guard headers.tokens(for: "Content-Type") == ["application/json"] else {
            return fail(exchange, status: 415, "Content-Type must be application/json")
        }
        let body = exchange.request.body
        let envelope: JSONRPCEnvelope
        do {
            envelope = try JSONRPCEnvelope.scan(body)
        } catch {
            return fail(exchange, status: 400, "\(error)", code: error.code, id: error.id)
        }
        if envelope.kind == .request && envelope.method == MCPMethod.initialize {
            return initialize(exchange, envelope: envelope)
        }
        if Self.isModern(body: body, envelope: envelope, headers: headers) {
            return postModern(exchange, envelope: envelope)
        }
        guard let session = session(for: exchange) else { return }
        if let version = headers["MCP-Protocol-Version"], !ProtocolVersion.supported.contains(version) {
            return fail(exchange, status: 400, "unsupported MCP-Protocol-Version \"\(version)\"; supported: \(ProtocolVersion.supported.joined(separator: ", "))")
        }
        session.lastActivity = EventLoop.now()
        switch envelope.kind {
        case .request:
            accept(request: body, envelope: envelope, from: exchange, in: session)
        case .notification, .successResponse, .errorResponse:
            respond(exchange, status: 202, session: session)
            core.receive(body, from: session.client)
        }
    }

    private func initialize(_ exchange: HTTPExchange, envelope: JSONRPCEnvelope) {
        guard accepting else { return fail(exchange, status: 503, "plugboard is shutting down") }
        if sessions.count >= settings.maxSessions { expireIdleSessions() }
        guard sessions.count < settings.maxSessions else {
            var headers = HTTPHeaders()
            headers.set("Retry-After", "5")
            return fail(exchange, status: 503, "too many sessions (http.max_sessions = \(settings.maxSessions))", headers: headers)
        }
        let id = Self.newSessionID()
        var session: HTTPSession!
        let client = core.openSession(label: "http:\(id.prefix(8))") { [unowned self] message in
            deliver(message, to: session)
        }
        client.deliverRelated = { [unowned self] message, idText in
            deliver(message, to: session, relatedTo: idText)
        }
        session = HTTPSession(id: id, client: client, replayCapacity: settings.replayEvents)
        sessions[id] = session
        counters.sessionsOpened += 1
        log.debug("session \(id.prefix(8)) opened by \(exchange.peer)")
        accept(request: exchange.request.body, envelope: envelope, from: exchange, in: session)
    }

    private func accept(request body: [UInt8], envelope: JSONRPCEnvelope, from exchange: HTTPExchange, in session: HTTPSession) {
        guard let id = envelope.id else { return fail(exchange, status: 400, "a request needs an id") }
        guard session.pending[id] == nil else {
            return fail(exchange, status: 409, "request id \(id) is already in flight in this session", code: JSONRPCErrorCode.invalidRequest)
        }
        let answer = PendingAnswer(
            id: id, method: envelope.method ?? "", progressToken: ProxyCore.progressToken(in: body, envelope: envelope), exchange: exchange)
        exchange.onAbort = { [weak answer, weak exchange] in
            guard let answer, let exchange else { return }
            answer.exchange = nil
            answer.stream?.detach(exchange)
        }
        session.register(answer)
        core.receive(body, from: session.client)
    }

    private func get(_ exchange: HTTPExchange) {
        let accepted = exchange.request.head.headers.tokens(for: "Accept")
        guard accepted.contains("text/event-stream") || accepted.contains("*/*") else {
            return fail(exchange, status: 406, "Accept must list text/event-stream")
        }
        guard let session = session(for: exchange) else { return }
        session.lastActivity = EventLoop.now()
        let stream: EventStream
        var lastSeen: Int?
        if let lastEventID = exchange.request.head.headers["Last-Event-ID"] {
            guard let (number, sequence) = EventStream.parse(eventID: lastEventID), let resumed = session.stream(numbered: number) else {
                return fail(exchange, status: 404, "no stream to resume for Last-Event-ID \"\(lastEventID.prefix(64))\"")
            }
            stream = resumed
            lastSeen = sequence
            counters.resumptions += 1
        } else {
            guard !session.standalone.isAttached else {
                return fail(exchange, status: 409, "this session's GET stream is already open")
            }
            stream = session.standalone
        }
        exchange.beginStream(status: 200, headers: sseHeaders(for: session))
        exchange.onAbort = { [weak stream, weak exchange] in
            guard let exchange else { return }
            stream?.detach(exchange)
        }
        if !stream.attach(exchange, after: lastSeen, priming: session.wantsPrimingEvents) {
            log.notice("session \(session.id.prefix(8)) resumed stream \(stream.number) after events that left the replay buffer (http.sse_replay_events = \(settings.replayEvents))")
            exchange.endStream()
        }
    }

    private func delete(_ exchange: HTTPExchange) {
        guard let session = session(for: exchange) else { return }
        end(session, reason: "the client ended the session")
        counters.sessionsDeleted += 1
        respond(exchange, status: 204, session: nil)
    }

    /// The request's session, or nil after answering 400 (no `Mcp-Session-Id`) or 404 (unknown).
    private func session(for exchange: HTTPExchange) -> HTTPSession? {
        guard let id = exchange.request.head.headers["Mcp-Session-Id"] else {
            fail(exchange, status: 400, "Mcp-Session-Id header is required (send initialize first)")
            return nil
        }
        guard let session = sessions[id] else {
            fail(exchange, status: 404, "session not found (it ended or expired); initialize a new one", code: JSONRPCErrorCode.sessionNotFound)
            return nil
        }
        return session
    }

    // MARK: Messages to the client

    /// A message that belongs with the client's call `idText`: on that call's stream, if the
    /// call is still waiting.
    private func deliver(_ message: [UInt8], to session: HTTPSession, relatedTo idText: [UInt8]) {
        if let id = (try? JSONParser.parse(idText)).flatMap(JSONRPCID.init(jsonValue:)), let answer = session.pending[id] {
            stream(for: answer, in: session).append(message: message)
        } else {
            deliver(message, to: session)
        }
    }

    private func deliver(_ message: [UInt8], to session: HTTPSession) {
        guard let envelope = try? JSONRPCEnvelope.scan(message) else {
            session.standalone.append(message: message)
            return
        }
        switch envelope.kind {
        case .successResponse, .errorResponse:
            guard let id = envelope.id, let answer = session.take(id) else {
                session.standalone.append(message: message)
                return
            }
            complete(answer, with: message, in: session)
        case .notification:
            if envelope.method == MCPMethod.progress, let token = Self.progressToken(ofNotification: message),
                let answer = session.answer(forProgressToken: token)
            {
                stream(for: answer, in: session).append(message: message)
            } else {
                session.standalone.append(message: message)
            }
        case .request:
            // JSON-RPC does not say which call a server request belongs to; the core sent it
            // to this session because it has a call in flight there, most likely the newest.
            if let answer = session.newestReachablePending {
                stream(for: answer, in: session).append(message: message)
            } else {
                session.standalone.append(message: message)
            }
        }
    }

    private func complete(_ answer: PendingAnswer, with message: [UInt8], in session: HTTPSession) {
        if let stream = answer.stream {
            stream.append(message: message, completing: true)
        } else if let exchange = answer.exchange, !exchange.isFinished {
            var headers = HTTPHeaders()
            headers.set("Content-Type", "application/json")
            headers.set("Mcp-Session-Id", session.id)
            record(status: 200)
            exchange.respond(status: 200, headers: headers, body: message)
        } else {
            log.info("session \(session.id.prefix(8)): the answer to \(answer.method) (id \(answer.id)) found its client gone")
        }
    }

    /// The answer's SSE stream, started on its POST the first time something other than the
    /// answer itself must reach the client.
    private func stream(for answer: PendingAnswer, in session: HTTPSession) -> EventStream {
        if let stream = answer.stream { return stream }
        let stream = session.openStream()
        answer.stream = stream
        if let exchange = answer.exchange, !exchange.isFinished {
            record(status: 200)
            exchange.beginStream(status: 200, headers: sseHeaders(for: session))
            _ = stream.attach(exchange, after: nil, priming: session.wantsPrimingEvents)
        }
        return stream
    }

    private func sseHeaders(for session: HTTPSession) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.set("Content-Type", "text/event-stream")
        headers.set("Cache-Control", "no-cache, no-transform")
        headers.set("X-Accel-Buffering", "no")
        headers.set("Mcp-Session-Id", session.id)
        return headers
    }

    static func progressToken(ofNotification message: [UInt8]) -> [UInt8]? {
        (try? JSONParser.parse(message))?["params"]?["progressToken"]?.serialized()
    }

    // MARK: Answers of the frontend's own

    private func respond(_ exchange: HTTPExchange, status: Int, session: HTTPSession?) {
        var headers = HTTPHeaders()
        if let session { headers.set("Mcp-Session-Id", session.id) }
        record(status: status)
        exchange.respond(status: status, headers: headers)
    }

    /// An error as a JSON-RPC error object with a null id, the form MCP SDKs read.
    func fail(
        _ exchange: HTTPExchange, status: Int, _ message: String, code: Int = JSONRPCErrorCode.invalidRequest, id: JSONRPCID? = nil,
        headers: HTTPHeaders = HTTPHeaders()
    ) {
        var headers = headers
        headers.set("Content-Type", "application/json")
        record(status: status)
        log.debug("\(exchange.request.head.method) \(exchange.request.head.path) from \(exchange.peer): \(status) \(message)")
        exchange.respond(status: status, headers: headers, body: JSONRPCMessage.error(id: id, code: code, message: message))
    }

    private func refuse(_ exchange: HTTPExchange, _ refusal: RequestGate.Refusal) {
        switch refusal {
        case .forbiddenOrigin(let origin):
            log.notice("refused a request from \(exchange.peer) with Origin \(printableLine(Array(origin.utf8.prefix(100)))) (not in http.allowed_origins)")
            fail(exchange, status: 403, "Origin not allowed")
        case .missingToken:
            var headers = HTTPHeaders()
            headers.set("WWW-Authenticate", "Bearer realm=\"plugboard\"")
            fail(exchange, status: 401, "a bearer token is required", headers: headers)
        case .wrongToken:
            log.notice("refused a request from \(exchange.peer): wrong bearer token")
            var headers = HTTPHeaders()
            headers.set("WWW-Authenticate", "Bearer realm=\"plugboard\", error=\"invalid_token\"")
            fail(exchange, status: 401, "the bearer token is not valid", headers: headers)
        }
    }

    func record(status: Int) { counters.responsesByStatus[status, default: 0] += 1 }

    // MARK: Session lifetime

    private func end(_ session: HTTPSession, reason: String) {
        sessions[session.id] = nil
        core.closeSession(session.client, reason: reason)
        for answer in session.pending.values {
            answer.exchange.map { fail($0, status: 404, "the session ended", code: JSONRPCErrorCode.sessionNotFound) }
        }
        session.pending = [:]
        for stream in session.allStreams { stream.finishExchange() }
        log.debug("session \(session.id.prefix(8)) ended: \(reason)")
    }

    private func scheduleSweep() {
        let period = max(1_000_000_000, min(settings.keepAliveInterval.nanoseconds, 15_000_000_000))
        sweepTimer = loop.schedule(afterNanoseconds: period) { [weak self] in
            guard let self else { return }
            expireIdleSessions()
            for session in sessions.values {
                for stream in session.allStreams where stream.isAttached { stream.sendKeepAlive() }
            }
            sendModernKeepAlives()
            scheduleSweep()
        }
    }

    /// Ends sessions idle past `session_idle_timeout` with nothing in flight and no open stream.
    private func expireIdleSessions() {
        let now = EventLoop.now()
        for session in Array(sessions.values) {
            let idle = session.pending.isEmpty && !session.allStreams.contains { $0.isAttached }
            if idle && now - session.lastActivity > settings.sessionIdleTimeout.nanoseconds {
                counters.sessionsExpired += 1
                end(session, reason: "idle for more than \(settings.sessionIdleTimeout)")
            }
        }
    }

    static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for _ in 0..<4 {
            var word = generator.next() as UInt64
            for _ in 0..<8 {
                text.append(digits[Int(word & 0xF)])
                word >>= 4
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: Stopping

    /// Stops taking connections and new sessions.
    public func stopAccepting() {
        accepting = false
        server.stopAccepting()
    }

    /// Ends every session's streams and closes connections once their exchanges finish.
    public func finish() {
        stopAccepting()
        for session in Array(sessions.values) { end(session, reason: "plugboard is stopping") }
        finishModernCalls()
        server.drain()
        if let sweepTimer { loop.cancelTimer(sweepTimer) }
        sweepTimer = nil
    }


    func whenConnectionsClosed(_ completion: @escaping () -> Void) { server.whenDrained(completion) }

    func closeConnections() { server.close() }
}

extension RequestGate.Refusal {
    var isOriginRefusal: Bool {
        if case .forbiddenOrigin = self { return true }
        return false
    }
}

extension StreamableHTTPFrontend {
    /// For the status dump: listeners, sessions and counters. Never session ids or tokens.
    public var status: JSONObject {
        var responses: JSONObject = [:]
        for (status, count) in counters.responsesByStatus.sorted(by: { $0.key < $1.key }) {
            responses[String(status)] = .number(JSONNumber(count))
        }
        return [
            "listening": .array(addresses.map { .string($0.description) }),
            "path": .string(settings.path),
            "authentication": .string(gate.token == nil ? "none" : "bearer"),
            "sessions": .number(JSONNumber(sessions.count)),
            "connections": .number(JSONNumber(connectionCount)),
            "sessionsOpened": .number(JSONNumber(counters.sessionsOpened)),
            "sessionsExpired": .number(JSONNumber(counters.sessionsExpired)),
            "sessionsDeleted": .number(JSONNumber(counters.sessionsDeleted)),
            "resumptions": .number(JSONNumber(counters.resumptions)),
            "responsesByStatus": .object(responses),
        ]
    }
}
