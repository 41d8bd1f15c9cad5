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
        let upstream: UpstreamConnection?
        let upstreamID: Int64?
        let progressToken: [UInt8]?
    }

    /// A request an upstream sent to this client (sampling, elicitation, roots, ping).
    struct ServerRequest {
        let upstream: UpstreamConnection
        let upstreamIDText: [UInt8]
        let method: String
    }

    public let label: String
    public internal(set) var phase = Phase.awaitingInitialize
    /// What the client sent in `initialize`.
    var initializeParams: JSONObject = [:]
    var negotiatedVersion = ProtocolVersion.latest
    var inFlight: [[UInt8]: InFlight] = [:]
    var serverRequests: [Int64: ServerRequest] = [:]
    private var nextServerRequestID: Int64 = 1
    private let deliver: ([UInt8]) -> Void

    init(label: String, deliver: @escaping ([UInt8]) -> Void) {
        self.label = label
        self.deliver = deliver
    }

    /// Requests of this client that have not been answered yet.
    public var pendingRequestCount: Int { inFlight.count + deferred.count }

    var clientCapabilities: JSONObject { initializeParams["capabilities"]?.objectValue ?? [:] }

    func send(_ message: [UInt8]) {
        guard phase != .closed else { return }
        deliver(message)
    }

    /// Sends the answer to the client's request `idText` and forgets the request.
    func answer(_ idText: [UInt8], _ message: [UInt8]) {
        inFlight[idText] = nil
        send(message)
    }

    /// Messages that arrived while `initialize` was being answered, replayed after it.
    var deferred: [([UInt8], JSONRPCEnvelope)] = []

    func takeServerRequestID() -> Int64 {
        defer { nextServerRequestID += 1 }
        return nextServerRequestID
    }
}
