import JSON

/// Why a message could not be routed, split the way JSON-RPC answers it.
public enum JSONRPCScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message is not valid JSON (answer with -32700 and a null id).
    case parseError(JSONError)
    /// The message is valid JSON but not a valid JSON-RPC 2.0 message (answer with
    /// -32600 and `id` when one could be read).
    case invalidRequest(reason: String, id: JSONRPCID?)

    /// The JSON-RPC error code to answer with.
    public var code: Int {
        switch self {
        case .parseError: return JSONRPCErrorCode.parseError
        case .invalidRequest: return JSONRPCErrorCode.invalidRequest
        }
    }

    /// The id to answer with, if one could be read.
    public var id: JSONRPCID? {
        switch self {
        case .parseError: return nil
        case .invalidRequest(_, let id): return id
        }
    }

    public var description: String {
        switch self {
        case .parseError(let error):
            return "parse error: \(error)"
        case .invalidRequest(let reason, let id):
            return "invalid request\(id.map { " (id \($0))" } ?? ""): \(reason)"
        }
    }
}
