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

    /// A request of the client's that has been accepted and not answered yet.
    struct InFlight {
        /// Where the call is: with plugboard (a plugin chain, a list fetch, a held call waiting
        /// for the client's input), or sent to an upstream under the upstream's own id.
        enum Stage {
            case local
            case upstream(UpstreamConnection, id: Int64, progressToken: [UInt8]?)
        }

        var stage: Stage
        var caller: Caller
        /// How many times a modern server has asked for input during this call.
        var inputRounds = 0

        /// Accepted, not sent anywhere yet.
        static func accepted(_ caller: Caller) -> InFlight { InFlight(stage: .local, caller: caller) }

        var upstream: UpstreamConnection? {
            if case .upstream(let upstream, _, _) = stage { return upstream }
            return nil
        }
        var upstreamID: Int64? {
            if case .upstream(_, let id, _) = stage { return id }
            return nil
        }
        var progressToken: [UInt8]? {
            if case .upstream(_, _, let token) = stage { return token }
            return nil
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
    var inFlight: [[UInt8]: InFlight] = [:] {
        didSet { if inFlight.isEmpty && deferred.isEmpty { becameIdle() } }
    }
    var serverRequests: [Int64: ServerRequest] = [:]
    private var nextServerRequestID: Int64 = 1
    private let deliver: ([UInt8]) -> Void
    private let metrics: RequestMetrics
    private let clock: LoopClock
    /// Every request of this client from arrival to answer, cancellation or abandonment.
    private(set) var ledger = RequestLedger()
    /// Called whenever the session is left with no request in flight or waiting to be replayed
    /// (possibly more than once in a row), for whoever waits for it to be idle.
    var onIdle: (() -> Void)?

    init(label: String, metrics: RequestMetrics, clock: LoopClock = .monotonic, deliver: @escaping ([UInt8]) -> Void) {
        self.label = label
        self.metrics = metrics
        self.clock = clock
        self.deliver = deliver
    }

    /// Notes a request's arrival; `.duplicate` when its id is still open (it is refused).
    func receive(_ idText: [UInt8], method: String) -> RequestLedger.Admission {
        ledger.receive(idText, method: method, at: clock.now())
    }

    /// The client cancelled the request: by the spec it is never answered.
    func cancelled(_ idText: [UInt8]) { ledger.cancel(idText) }

    /// A request that will never be answered (a closed subscription stream).
    func abandon(_ idText: [UInt8]) { ledger.abandon(idText) }

    /// The client is gone: its open requests will never be answered; returns how many.
    @discardableResult
    func abandonAll() -> Int { ledger.abandonAll() }

    /// Requests of this client that have not been answered yet.
    public var pendingRequestCount: Int { inFlight.count + deferred.count }
    public var isIdle: Bool { inFlight.isEmpty && deferred.isEmpty }

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
        // Forgotten last: a session left idle may be closed by whoever waits for that.
        defer { inFlight[idText] = nil }
        if let batch = batches.removeValue(forKey: idText) {
            batch.answers.append(message)
            batch.waiting -= 1
            if batch.waiting == 0 { send(batch.combined) }
        } else {
            send(message)
        }
        // Counted as answered only once handed over: a frontend that ends the session instead
        // (a client that stopped reading) has counted it as abandoned.
        guard ledger.isOpen(idText) else { return }
        let failed = isError ?? Self.isBuiltError(message, idText: idText)
        if let answered = ledger.answer(idText, isError: failed, at: clock.now()) {
            metrics.record(method: answered.method, outcome: failed ? .error : .ok, seconds: Double(answered.nanoseconds) / 1e9)
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
    var deferred: [([UInt8], JSONRPCEnvelope)] = [] {
        didSet { if inFlight.isEmpty && deferred.isEmpty { becameIdle() } }
    }

    private var idleWaiters: [() -> Void] = []

    /// Runs `waiter` once, as soon as the session has no request in flight (at once if so).
    public func whenIdle(_ waiter: @escaping () -> Void) {
        if isIdle { waiter() } else { idleWaiters.append(waiter) }
    }

    private func becameIdle() {
        onIdle?()
        guard !idleWaiters.isEmpty else { return }
        for waiter in idleWaiters.takeAll() { waiter() }
    }

    func takeServerRequestID() -> Int64 {
        defer { nextServerRequestID += 1 }
        return nextServerRequestID
    }
}
