import JSONRPC

/// What an upstream sent back for one request, or why nothing will come.
enum UpstreamReply {
    /// The raw response line and its scanned envelope; the id is still the proxy's.
    case response([UInt8], JSONRPCEnvelope)
    case failed(ProxyFailure)
}

/// A request the proxy sent to an upstream and still waits on.
struct PendingRequest {
    let method: String
    let onReply: (UpstreamReply) -> Void
    /// When the request times out; progress notifications push it back, up to `hardDeadline`.
    var deadline: UInt64
    let hardDeadline: UInt64
    let timeoutSeconds: Double
}

/// A request waiting for its upstream to finish starting or restarting.
struct ParkedRequest {
    let method: String
    let build: (_ idText: [UInt8]) -> [UInt8]
    let onReply: (UpstreamReply) -> Void
    let deadline: UInt64
    let timeoutSeconds: Double
    let id: Int64
}
