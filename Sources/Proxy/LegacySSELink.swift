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

    init(url: String, options: RemoteOptions, limits: Limits, loop: EventLoop, log: Logger) {
        self.endpoint = url
        self.options = options
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
        let url = remote.url
        let client = remote.client
        self.client = client
        state = .awaitingEndpoint
        var head = remote.head("GET")
        head.headers.set("Accept", "text/event-stream")
        var status = 0
        var events = SSEParser(maxEventBytes: limits.maxMessageBytes)
        log.info("connecting (legacy SSE)", ["url": endpoint])
        stream = client.send(head) { [weak self] event in
            guard let self else { return }
            switch event {
            case .head(let head):
                status = head.status
                if status != 200 { shutDown(reason: "the SSE endpoint answered HTTP \(status)") }
            case .body(let bytes):
                do {
                    for event in try events.append(bytes) { received(event, base: url) }
                } catch {
                    shutDown(reason: "the SSE stream sent an event over limits.max_message_bytes")
                }
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

    private func post(_ message: [UInt8]) {
        guard let client, let postURL, let remote else { return }
        var head = remote.head("POST", target: postURL.pathAndQuery)
        head.headers.set("Content-Type", "application/json")
        let envelope = try? JSONRPCEnvelope.scan(message)
        let requestID = envelope?.kind == .request ? envelope?.id : nil
        var status = 0
        client.send(head, body: message) { [weak self] event in
            guard let self else { return }
            switch event {
            case .head(let head): status = head.status
            case .body: break
            case .end where (200..<300).contains(status): break
            case .end, .failed:
                let reason = if case .failed(let why) = event { why } else { "HTTP \(status)" }
                log.warning("POST to the message endpoint failed: \(reason)")
                if let requestID {
                    onMessage(JSONRPCMessage.error(id: requestID, code: JSONRPCErrorCode.internalError, message: "Upstream HTTP request failed: \(reason)"), nil)
                }
            }
        }
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
