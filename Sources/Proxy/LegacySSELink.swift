import Config
import HTTP
import IO
import JSONRPC
import Logging
import Network

/// An upstream server over the HTTP+SSE transport of 2024-11-05: a GET opens an event stream
/// whose first `endpoint` event names where to POST; every server message arrives on the
/// stream. When the stream ends, so does this life of the link.
final class LegacySSELink: UpstreamLink {
    private enum State { case unopened, awaitingEndpoint, open, closed }

    var onMessage: ([UInt8], Int64?) -> Void = { _, _ in }
    var onClosed: (String) -> Void = { _ in }
    let endpoint: String
    var processID: Int32? { nil }
    private let limits: Limits
    private let loop: EventLoop
    private let log: Logger
    private var state = State.unopened
    private var client: HTTPClient?
    private var stream: HTTPClientRequest?
    private var postURL: HTTPURL?
    /// Messages sent before the `endpoint` event arrived.
    private var early: [[UInt8]] = []
    private var earlyBytes = 0

    private let options: RemoteOptions
    private var remote: RemoteEndpoint?
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
        case .failure(let error):
            state = .closed
            loop.runBeforeNextWait { [weak self] in self?.onClosed(error.description) }
            return
        }
        self.remote = remote
        self.client = remote.client
        state = .awaitingEndpoint
        guard let authorization else { return openStream(authorizationHeader: nil) }
        authorization.authorize { [weak self] decision in
            switch decision {
            case .success(let header): self?.openStream(authorizationHeader: header)
            case .failure(let denied): self?.shutDown(reason: "Upstream authorization failed: \(denied.reason)")
            }
        }
    }

    private func openStream(authorizationHeader: String?) {
        guard state == .awaitingEndpoint, let remote, let client else { return }
        let url = remote.url
        var head = remote.head("GET")
        head.headers.set("Accept", "text/event-stream")
        if let authorizationHeader { head.headers.set("Authorization", authorizationHeader) }
        var status = 0
        var events = SSEParser(maxEventBytes: limits.maxMessageBytes)
        log.info("connecting (legacy SSE)", ["url": endpoint])
        stream = client.send(head) { [weak self] event in
            guard let self else { return }
            switch event {
            case .head(let head):
                status = head.status
                if (status == 401 || status == 403), let authorization {
                    // Renew if that can help, then end this life: the connection reopens with the new token.
                    authorization.rejected(status: status, headers: head.headers, sentHeader: authorizationHeader) { [weak self] decision in
                        let why = if case .failure(let denied) = decision { "Upstream authorization failed: \(denied.reason)" } else { "the SSE endpoint answered HTTP \(status)" }
                        self?.shutDown(reason: why)
                    }
                } else if status != 200 {
                    shutDown(reason: "the SSE endpoint answered HTTP \(status)")
                }
            case .body(let bytes):
                guard status == 200 else { return }
                do {
                    for event in try events.append(bytes) { received(event, base: url) }
                } catch {
                    shutDown(reason: "the SSE stream sent an event over limits.max_message_bytes")
                }
            case .end where (status == 401 || status == 403) && authorization != nil, .failed where (status == 401 || status == 403) && authorization != nil:
                break  // the authorization decision ends this life, with its reason
            case .end:
                shutDown(reason: "the SSE stream ended")
            case .failed(let reason):
                shutDown(reason: "the SSE stream failed: \(reason)")
            }
        }
    }

    private func received(_ event: SSEEvent, base: HTTPURL) {
        switch event.event ?? "message" {
        case "endpoint":
            guard let resolved = base.resolving(event.data) else {
                return shutDown(reason: "the endpoint event named an unusable URL: \(printableLine(Array(event.data.utf8.prefix(200))))")
            }
            guard resolved.host == base.host && resolved.port == base.port else {
                return shutDown(reason: "the endpoint event points at another origin (\(resolved.hostHeader)); refused")
            }
            postURL = resolved
            state = .open
            let queued = early
            early = []
            earlyBytes = 0
            for message in queued { post(message) }
        case "message":
            guard !event.data.isEmpty else { return }
            onMessage(Array(event.data.utf8), nil)
        default:
            log.debug("ignored an SSE event of type \(printableLine(Array((event.event ?? "").utf8.prefix(40))))")
        }
    }

    func send(_ message: [UInt8]) -> PipeChannel.SendOutcome {
        switch state {
        case .unopened, .closed:
            return .closed
        case .awaitingEndpoint:
            guard earlyBytes + message.count <= limits.maxQueuedBytes else { return .peerNotReading(queuedBytes: earlyBytes) }
            early.append(message)
            earlyBytes += message.count
            return .queued
        case .open:
            post(message)
            return .queued
        }
    }

    private func post(_ message: [UInt8], retried: Bool = false) {
        guard let authorization else { return transmit(message, authorizationHeader: nil, retried: true) }
        authorization.authorize { [weak self] decision in self?.proceed(message, decision, retried: retried) }
    }

    private func proceed(_ message: [UInt8], _ decision: Result<String?, AuthorizationDenied>, retried: Bool) {
        switch decision {
        case .success(let header): transmit(message, authorizationHeader: header, retried: retried)
        case .failure(let denied): answer(message, failure: "Upstream authorization failed: \(denied.reason)")
        }
    }

    private func transmit(_ message: [UInt8], authorizationHeader: String?, retried: Bool) {
        guard state == .open, let client, let postURL, let remote else { return }
        var head = remote.head("POST", target: postURL.pathAndQuery)
        head.headers.set("Content-Type", "application/json")
        if let authorizationHeader { head.headers.set("Authorization", authorizationHeader) }
        var status = 0
        var rejection: HTTPHeaders?
        client.send(head, body: message) { [weak self] event in
            guard let self else { return }
            switch event {
            case .head(let head):
                status = head.status
                if !retried && (status == 401 || status == 403) { rejection = head.headers }
            case .body: break
            case .end where (200..<300).contains(status): break
            case .end where rejection != nil:
                authorization?.rejected(status: status, headers: rejection!, sentHeader: authorizationHeader) { [weak self] decision in
                    self?.proceed(message, decision, retried: true)
                }
            case .end, .failed:
                let reason = if case .failed(let why) = event { why } else { "HTTP \(status)" }
                log.warning("POST to the message endpoint failed: \(reason)")
                answer(message, failure: "Upstream HTTP request failed: \(reason)")
            }
        }
    }

    /// Answers a request that will get no answer from the server.
    private func answer(_ message: [UInt8], failure: String) {
        guard let envelope = try? JSONRPCEnvelope.scan(message), envelope.kind == .request, let requestID = envelope.id else {
            return log.warning("a notification was not delivered: \(failure)")
        }
        let answer = JSONRPCMessage.error(id: requestID, code: JSONRPCErrorCode.internalError, message: failure)
        // Never from inside `send`: the connection records the request only once `send` returns.
        loop.runBeforeNextWait { [weak self] in self?.onMessage(answer, nil) }
    }

    func close() { shutDown(reason: "closed") }
    func abort() { shutDown(reason: "aborted") }

    private func shutDown(reason: String) {
        guard state != .closed else { return }
        state = .closed
        client?.close()
        client = nil
        onClosed(reason)
    }
}
