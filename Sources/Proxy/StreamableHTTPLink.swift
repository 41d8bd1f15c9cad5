import Config
import Cryptography
import HTTP
import IO
import JSON
import JSONRPC
import Logging
import Network

/// An upstream server reached over Streamable HTTP: each message is a POST whose answer comes
/// back as JSON or an SSE stream; the session id from `initialize` rides on every later request;
/// a GET stream carries what the server sends on its own; a 404 means the session is gone and
/// the connection starts over (a new `initialize`).
final class StreamableHTTPLink: UpstreamLink {
    private enum State { case unopened, open, closing, closed }

    var onMessage: ([UInt8], Int64?) -> Void = { _, _ in }
    var onClosed: (String) -> Void = { _ in }
    let endpoint: String
    var processID: Int32? { nil }
    private let limits: Limits
    private let loop: EventLoop
    private let log: Logger
    private var state = State.unopened
    private var client: HTTPClient?
    private var sessionID: String?
    private var protocolVersion: String?
    private var serverStream: HTTPClientRequest?
    private var serverStreamLastEventID: String?
    private var serverStreamAttempts = 0
    /// Bytes of POST bodies not yet answered, so a server that stops answering cannot grow memory without bound.
    private var outstandingBytes = 0

    private let options: RemoteOptions
    private var remote: RemoteEndpoint?
    /// OAuth toward this server, when it applies; shared by every life of the connection.
    private let authorization: UpstreamAuthorization?

    init(url: String, options: RemoteOptions, authorization: UpstreamAuthorization?, limits: Limits, loop: EventLoop, log: Logger) {
        self.endpoint = url
        self.options = options
        self.authorization = authorization
        self.limits = limits
        self.loop = loop
        self.log = log
    }

    func open() {
        let remote: RemoteEndpoint
        switch RemoteEndpoint.open(endpoint, options: options, limits: limits, loop: loop, log: log) {
        case .success(let opened): remote = opened
        case .failure(let error): return closeSoon(error.description)
        }
        self.remote = remote
        client = remote.client
        state = .open
        log.info("connecting", ["url": endpoint])
    }

    func send(_ message: [UInt8]) -> PipeChannel.SendOutcome {
        guard state == .open else { return .closed }
        guard outstandingBytes + message.count <= limits.maxQueuedBytes else { return .peerNotReading(queuedBytes: outstandingBytes) }
        let envelope = try? JSONRPCEnvelope.scan(message)
        if envelope?.method == MCPMethod.initialized { loop.runBeforeNextWait { [weak self] in self?.openServerStream() } }
        outstandingBytes += message.count
        let post = Post(message: message, envelope: envelope)
        guard let authorization else {
            transmit(post, authorizationHeader: nil)
            return .queued
        }
        authorization.authorize { [weak self] decision in self?.proceed(post, decision) }
        return .queued
    }

    /// One message to POST, kept whole so that it can be sent again after a token renewal.
    private struct Post {
        let message: [UInt8]
        let envelope: JSONRPCEnvelope?
        var retried = false
        var requestID: JSONRPCID? { envelope?.kind == .request ? envelope?.id : nil }
        var isInitialize: Bool { envelope?.method == MCPMethod.initialize }
    }

    private func proceed(_ post: Post, _ decision: Result<String?, AuthorizationDenied>) {
        switch decision {
        case .success(let header): transmit(post, authorizationHeader: header)
        case .failure(let denied): refuse(post, reason: denied.reason)
        }
    }

    /// Answers a request plugboard could not send for want of authorization.
    private func refuse(_ post: Post, reason: String) {
        outstandingBytes -= post.message.count
        guard state == .open else { return }
        guard let requestID = post.requestID else { return log.warning("a notification was not sent: \(reason)") }
        let answer = JSONRPCMessage.error(id: requestID, code: JSONRPCErrorCode.internalError, message: "Upstream authorization failed: \(reason)")
        // Never from inside `send`: the connection records the request only once `send` returns.
        loop.runBeforeNextWait { [weak self] in self?.onMessage(answer, nil) }
    }

    private func transmit(_ post: Post, authorizationHeader: String?) {
        guard state == .open, let client, let remote else {
            outstandingBytes -= post.message.count
            return
        }
        var head = remote.head("POST")
        head.headers.set("Content-Type", "application/json")
        head.headers.set("Accept", "application/json, text/event-stream")
        if let authorizationHeader { head.headers.set("Authorization", authorizationHeader) }
        addSessionHeaders(to: &head.headers)
        // A session-era server keeps its negotiated version header; a modern one gets the mirrored headers.
        if sessionID == nil, protocolVersion == nil, let envelope = post.envelope, RequestMeta.mayBeModern(post.message, envelope: envelope) {
            Self.addModernHeaders(for: post.message, envelope: envelope, to: &head.headers)
        }
        var exchange = PostExchange(
            requestID: post.requestID, isInitialize: post.isInitialize, maxEventBytes: limits.maxMessageBytes,
            mayRetry: authorization != nil && !post.retried)
        client.send(head, body: post.message) { [weak self] event in
            guard let self, exchange.handle(event, link: self) else { return }
            guard let rejection = exchange.rejection, let authorization else {
                outstandingBytes -= post.message.count
                return
            }
            var again = post
            again.retried = true
            authorization.rejected(status: rejection.status, headers: rejection.headers, sentHeader: authorizationHeader) { [weak self] decision in
                self?.proceed(again, decision)
            }
        }
    }

    /// The headers 2026-07-28 mirrors from the body: version, method, and the name or URI.
    static func addModernHeaders(for message: [UInt8], envelope: JSONRPCEnvelope, to headers: inout HTTPHeaders) {
        guard let parsed = try? JSONParser.parse(message), let params = parsed["params"] else { return }
        if let version = params["_meta"]?[RequestMeta.protocolVersionKey]?.stringValue { headers.set("MCP-Protocol-Version", version) }
        guard let method = envelope.method else { return }
        headers.set("Mcp-Method", method)
        let name: String? =
            switch method {
            case MCPMethod.toolsCall, MCPMethod.promptsGet: params["name"]?.stringValue
            case MCPMethod.resourcesRead: params["uri"]?.stringValue
            default: nil
            }
        if let name { headers.set("Mcp-Name", mirroredHeaderValue(name)) }
    }

    /// A value as a header may carry it: plain when it is visible ASCII without edge spaces,
    /// else `=?base64?…?=` (streamable-http.mdx, Value Encoding).
    static func mirroredHeaderValue(_ value: String) -> String {
        let bytes = Array(value.utf8)
        let plain = !bytes.isEmpty && bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || (0x21...0x7E).contains($0) }
            && bytes.first != 0x20 && bytes.last != 0x20 && bytes.first != 0x09 && bytes.last != 0x09
            && !(value.hasPrefix("=?base64?") && value.hasSuffix("?="))
        return plain ? value : "=?base64?" + Base64.encoded(bytes) + "?="
    }

    private func addSessionHeaders(to headers: inout HTTPHeaders) {
        if let sessionID { headers.set("Mcp-Session-Id", sessionID) }
        if let protocolVersion { headers.set("MCP-Protocol-Version", protocolVersion) }
    }

    /// The answer to one POST, followed as it arrives.
    private struct PostExchange {
        let requestID: JSONRPCID?
        let isInitialize: Bool
        /// A 401 or 403 may be retried once with a renewed token instead of answered.
        let mayRetry: Bool
        /// The refusal to retry after, when the exchange ended in one.
        var rejection: (status: Int, headers: HTTPHeaders)?
        var status = 0
        var isEventStream = false
        var body: [UInt8] = []
        var events: SSEParser
        var answered = false

        init(requestID: JSONRPCID?, isInitialize: Bool, maxEventBytes: Int, mayRetry: Bool) {
            self.requestID = requestID
            self.isInitialize = isInitialize
            self.mayRetry = mayRetry
            self.events = SSEParser(maxEventBytes: maxEventBytes)
        }

        /// Returns true when the exchange is over.
        mutating func handle(_ event: HTTPClientEvent, link: StreamableHTTPLink) -> Bool {
            switch event {
            case .head(let head):
                status = head.status
                if mayRetry && (status == 401 || status == 403) { rejection = (status, head.headers) }
                isEventStream = head.headers["Content-Type"]?.lowercased().hasPrefix("text/event-stream") ?? false
                if isInitialize, let session = head.headers["Mcp-Session-Id"] { link.sessionID = session }
                return false
            case .body where rejection != nil:
                return false
            case .end where rejection != nil:
                return true
            case .body(let bytes):
                if isEventStream && (200..<300).contains(status) {
                    do {
                        for event in try events.append(bytes) where !event.data.isEmpty {
                            deliver(Array(event.data.utf8), link: link)
                        }
                    } catch {
                        link.log.error("sent an SSE event over limits.max_message_bytes: \(error)")
                    }
                } else if body.count < link.limits.maxMessageBytes {
                    body += bytes
                }
                return false
            case .end:
                finish(link: link, failure: nil)
                return true
            case .failed(let reason):
                rejection = nil
                finish(link: link, failure: reason)
                return true
            }
        }

        private mutating func deliver(_ message: [UInt8], link: StreamableHTTPLink) {
            if let requestID, let envelope = try? JSONRPCEnvelope.scan(message),
                envelope.kind == .successResponse || envelope.kind == .errorResponse, envelope.id == requestID
            {
                answered = true
                if isInitialize { link.noteInitializeResult(message) }
            }
            if case .number(let id)? = requestID {
                link.onMessage(message, id)
            } else {
                link.onMessage(message, nil)
            }
        }

        private mutating func finish(link: StreamableHTTPLink, failure: String?) {
            if failure == nil && (200..<300).contains(status) && !isEventStream && !body.isEmpty {
                deliver(body, link: link)
            } else if failure == nil && (400..<500).contains(status), let requestID, let envelope = try? JSONRPCEnvelope.scan(body),
                envelope.kind == .errorResponse, envelope.id == requestID || envelope.hasNullID
            {
                // A modern server states its refusal in the body (-32022, -32020…); the probe reads it.
                let message = envelope.id == requestID ? body : replacingID(in: body, idRange: envelope.idRange!, with: requestID.jsonBytes)
                deliver(message, link: link)
            }
            if status == 404 && link.sessionID != nil && !isInitialize {
                link.sessionLost()
            }
            guard let requestID, !answered else { return }
            let reason: String
            if let failure {
                reason = failure
            } else if (200..<300).contains(status) {
                reason = "the server ended its answer without a response"
            } else {
                let text = String(decoding: body.prefix(300), as: UTF8.self)
                reason = "HTTP \(status)\(text.isEmpty ? "" : ": \(printableLine(Array(text.utf8)))")"
            }
            answered = true
            link.onMessage(
                JSONRPCMessage.error(id: requestID, code: JSONRPCErrorCode.internalError, message: "Upstream HTTP request failed: \(reason)"), nil)
        }
    }

    private func noteInitializeResult(_ message: [UInt8]) {
        protocolVersion = (try? JSONParser.parse(message))?["result"]?["protocolVersion"]?.stringValue
    }

    /// The server forgot the session (404): this life of the link is over.
    private func sessionLost() {
        guard state == .open else { return }
        log.warning("the server no longer knows session \(sessionID.map { String($0.prefix(8)) } ?? "?"); starting a new one")
        shutDown(reason: "the remote session expired (HTTP 404)")
    }

    // MARK: The server's own stream

    private func openServerStream() {
        guard state == .open, serverStream == nil else { return }
        guard let authorization else { return openServerStream(authorizationHeader: nil) }
        authorization.authorize { [weak self] decision in
            switch decision {
            case .success(let header): self?.openServerStream(authorizationHeader: header)
            case .failure(let denied):
                guard let self else { return }
                log.warning("the server's stream is not open: \(denied.reason)")
                retryServerStream()
            }
        }
    }

    private func openServerStream(authorizationHeader: String?) {
        guard state == .open, let client, let remote, serverStream == nil else { return }
        var head = remote.head("GET")
        if let authorizationHeader { head.headers.set("Authorization", authorizationHeader) }
        var rejection: HTTPHeaders?
        head.headers.set("Accept", "text/event-stream")
        addSessionHeaders(to: &head.headers)
        if let serverStreamLastEventID { head.headers.set("Last-Event-ID", serverStreamLastEventID) }
        var status = 0
        var events = SSEParser(maxEventBytes: limits.maxMessageBytes)
        serverStream = client.send(head) { [weak self] event in
            guard let self else { return }
            switch event {
            case .head(let head):
                status = head.status
                if status == 401 || status == 403 { rejection = head.headers }
                if status == 405 {
                    log.debug("the server offers no GET stream (405)")
                } else if status == 200 {
                    serverStreamAttempts = 0
                }
            case .body(let bytes):
                guard status == 200 else { return }
                do {
                    for event in try events.append(bytes) where !event.data.isEmpty { onMessage(Array(event.data.utf8), nil) }
                    if let id = events.lastEventID { serverStreamLastEventID = id }
                } catch {
                    log.error("the server's stream sent an event over limits.max_message_bytes: \(error)")
                }
            case .end, .failed:
                serverStream = nil
                if status == 404 { return sessionLost() }
                if let rejection, let authorization {
                    // Renew (or learn that a login is needed); the reopening below uses what it yields.
                    authorization.rejected(status: status, headers: rejection, sentHeader: authorizationHeader) { _ in }
                }
                guard status != 405 else { return }
                retryServerStream()
            }
        }
    }

    /// Opens the server's stream again after a growing pause (up to 30 s).
    private func retryServerStream() {
        guard state == .open else { return }
        serverStreamAttempts += 1
        let delay = min(UInt64(1) << min(serverStreamAttempts, 5), 30) * 1_000_000_000
        loop.schedule(afterNanoseconds: delay) { [weak self] in self?.openServerStream() }
    }

    // MARK: Ending

    func close() {
        guard state == .open, let client, let remote else { return closeSoon("closed") }
        state = .closing
        serverStream?.cancel()
        guard sessionID != nil else { return shutDown(reason: "closed") }
        var head = remote.head("DELETE")
        if let header = authorization?.currentHeader { head.headers.set("Authorization", header) }
        addSessionHeaders(to: &head.headers)
        let timer = loop.schedule(afterNanoseconds: 2_000_000_000) { [weak self] in self?.shutDown(reason: "closed") }
        client.send(head) { [weak self] event in
            switch event {
            case .end, .failed:
                self?.loop.cancelTimer(timer)
                self?.shutDown(reason: "closed")
            case .head, .body: break
            }
        }
    }

    func abort() {
        shutDown(reason: "aborted")
    }

    private func shutDown(reason: String) {
        guard state != .closed else { return }
        state = .closed
        client?.close()
        client = nil
        onClosed(reason)
    }

    private func closeSoon(_ reason: String) {
        guard state != .closed else { return }
        state = .closed
        loop.runBeforeNextWait { [weak self] in self?.onClosed(reason) }
    }
}
