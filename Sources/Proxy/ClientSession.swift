import IO
import JSON
import JSONRPC

/// One MCP client connected to the proxy (the stdio client, later each HTTP session).
/// Loop-confined; created by `ProxyCore.openSession`.
public final class ClientSession {
    public enum Phase: String {
        case awaitingInitialize
        /// `initialize` arrived; the answer waits for the upstreams.
        case initializing
        case ready
        case closed
    }

    /// A request of the client's that an upstream is working on.
    struct InFlight {
        var upstream: UpstreamConnection?
        var upstreamID: Int64?
        var progressToken: [UInt8]?
        var caller: Caller
        /// How many times a modern server has asked for input during this call.
        var inputRounds = 0

        init(upstream: UpstreamConnection?, upstreamID: Int64?, progressToken: [UInt8]?, caller: Caller) {
            self.upstream = upstream
            self.upstreamID = upstreamID
            self.progressToken = progressToken
            self.caller = caller
        }

        /// Accepted, not sent anywhere yet.
        static func accepted(_ caller: Caller) -> InFlight {
            InFlight(upstream: nil, upstreamID: nil, progressToken: nil, caller: caller)
        }
    }

    /// What a client answered to a request plugboard's bridge sent it.
    enum ClientAnswer {
        case result(JSONValue)
        case error(JSONValue)
    }

    /// Which era the request was made in; a modern one keeps what binds a retry to it.
    enum Caller {
        case legacy
        case modern(ModernRequest)

        var era: ProtocolEra {
            if case .modern = self { return .modern }
            return .legacy
        }
    }

    /// A request sent to this client (sampling, elicitation, roots, ping): on behalf of an
    /// upstream, whose id it is answered under, or of plugboard's own bridge, which takes the answer.
    struct ServerRequest {
        enum Asker {
            case upstream(UpstreamConnection, idText: [UInt8])
            case bridge((ClientAnswer) -> Void)
        }
        let asker: Asker
        let method: String
    }

    public let label: String
    /// The era the client speaks, from its first request: `initialize`, or a modern request.
    public internal(set) var era: ProtocolEra?
    public internal(set) var phase = Phase.awaitingInitialize
    /// What the client sent in `initialize`.
    var initializeParams: JSONObject = [:] {
        didSet { standInMeta = RequestMeta.standingFor(initializeParams: initializeParams) }
    }
    /// What a modern server is told of this legacy client on each request.
    private(set) var standInMeta: RequestMeta?
    var negotiatedVersion = ProtocolVersion.latestLegacy
    var inFlight: [[UInt8]: InFlight] = [:]
    var serverRequests: [Int64: ServerRequest] = [:]
    private var nextServerRequestID: Int64 = 1
    private let deliver: ([UInt8]) -> Void
    private let metrics: RequestMetrics
    /// Method and start time of each request not yet answered, for `metrics`.
    private var started: [[UInt8]: (method: String, at: UInt64)] = [:]

    init(label: String, metrics: RequestMetrics, deliver: @escaping ([UInt8]) -> Void) {
        self.label = label
        self.metrics = metrics
        self.deliver = deliver
    }

    /// Requests received and not answered yet.
    var unansweredCount: Int { started.count }

    /// The client is gone: its unanswered requests will never be answered; returns how many.
    func abandonUnanswered() -> Int {
        defer { started = [:] }
        return started.count
    }

    /// A request that will never be answered (a cancelled subscription); false if it was not awaited.
    func abandon(_ idText: [UInt8]) -> Bool {
        started.removeValue(forKey: idText) != nil
    }

    /// Notes a request's arrival; a second request with the id of one still unanswered is not
    /// noted (it is refused as a duplicate).
    func requestStarted(_ idText: [UInt8], method: String) {
        guard started[idText] == nil else { return }
        started[idText] = (method, EventLoop.now())
    }

    /// Requests of this client that have not been answered yet.
    public var pendingRequestCount: Int { inFlight.count + deferred.count }

    var clientCapabilities: JSONObject { initializeParams["capabilities"]?.objectValue ?? [:] }

    func send(_ message: [UInt8]) {
        guard phase != .closed else { return }
        deliver(message)
    }

    /// Where a server request goes when the call that caused it is known (`idText`, the
    /// client's id of that call); frontends with a stream per call set it. Otherwise `deliver`.
    public var deliverRelated: (([UInt8], _ relatedTo: [UInt8]) -> Void)?

    func send(_ message: [UInt8], relatedTo idText: [UInt8]?) {
        guard phase != .closed else { return }
        if let idText, let deliverRelated {
            deliverRelated(message, idText)
        } else {
            deliver(message)
        }
    }

    /// Sends the answer to the client's request `idText` and forgets the request.
    /// `isError` may be left out for messages of the proxy's own building (`JSONRPCMessage`),
    /// whose layout tells.
    func answer(_ idText: [UInt8], _ message: [UInt8], isError: Bool? = nil) {
        inFlight[idText] = nil
        if let batch = batches.removeValue(forKey: idText) {
            batch.answers.append(message)
            batch.waiting -= 1
            if batch.waiting == 0 { send(batch.combined) }
        } else {
            send(message)
        }
        // Counted as answered only once handed over: a frontend that ends the session instead
        // (a client that stopped reading) has counted it as abandoned.
        if let start = started.removeValue(forKey: idText) {
            let failed = isError ?? Self.isBuiltError(message, idText: idText)
            metrics.record(method: start.method, outcome: failed ? .error : .ok, seconds: Double(EventLoop.now() - start.at) / 1e9)
        }
    }

    /// Whether `message` reads `{"jsonrpc":"2.0","id":<idText>,"error"`, as `JSONRPCMessage.error` writes it.
    private static func isBuiltError(_ message: [UInt8], idText: [UInt8]) -> Bool {
        let errorStart = builtPrefix.count + idText.count
        guard message.count > errorStart + errorKey.count else { return false }
        return message[errorStart..<(errorStart + errorKey.count)].elementsEqual(errorKey)
    }
    private static let builtPrefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let errorKey = Array(#","error""#.utf8)

    /// A JSON-RPC batch (2025-03-26) whose answers go back together, as one array.
    final class BatchReply {
        var answers: [[UInt8]]
        var waiting: Int
        init(answers: [[UInt8]], waiting: Int) {
            self.answers = answers
            self.waiting = waiting
        }
        var combined: [UInt8] { [UInt8(ascii: "[")] + Array(answers.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")] }
    }

    /// The open batch each awaited request id belongs to.
    private var batches: [[UInt8]: BatchReply] = [:]

    /// Collects the answers to `requestIDs` into one array, after `answered` (errors for the
    /// batch's unusable members); sends `answered` at once when no request is awaited.
    func beginBatch(requestIDs: [[UInt8]], answered: [[UInt8]]) {
        let batch = BatchReply(answers: answered, waiting: requestIDs.count)
        guard !requestIDs.isEmpty else {
            if !answered.isEmpty { send(batch.combined) }
            return
        }
        for id in requestIDs { batches[id] = batch }
    }

    /// Messages that arrived while `initialize` was being answered, replayed after it.
    var deferred: [([UInt8], JSONRPCEnvelope)] = []

    func takeServerRequestID() -> Int64 {
        defer { nextServerRequestID += 1 }
        return nextServerRequestID
    }
}
