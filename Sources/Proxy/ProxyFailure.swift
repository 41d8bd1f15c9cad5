import JSON
import JSONRPC
import Plugins

/// Why the proxy answered a request itself with a JSON-RPC error.
///
/// Each case becomes one error response carrying the client's original id; `message` is a
/// sentence the client's user can act on and `data` carries the facts (server, method).
public enum ProxyFailure: Error, Equatable, CustomStringConvertible {
    case unknownTool(String)
    case unknownPrompt(String)
    case unknownResource(String)
    case invalidParams(method: String, reason: String)
    case methodNotFound(String)
    case notInitialized(method: String)
    case upstreamUnavailable(server: String, method: String, reason: String)
    case upstreamExited(server: String, method: String, status: String)
    case upstreamNotReading(server: String, method: String, queuedBytes: Int)
    /// The upstream answered, but plugboard could not accept the answer.
    case upstreamAnswerRefused(server: String, method: String, reason: String)
    case timedOut(server: String, method: String, seconds: Double)
    case tooManyInFlight(server: String, limit: Int)
    case shuttingDown(method: String)
    case plugin(PluginFailure)
    case blockedByPlugin(plugin: String, phase: PluginPhase, reason: String)

    public var code: Int {
        switch self {
        case .unknownTool, .unknownPrompt, .invalidParams: JSONRPCErrorCode.invalidParams
        case .unknownResource: JSONRPCErrorCode.resourceNotFound
        case .methodNotFound: JSONRPCErrorCode.methodNotFound
        case .notInitialized: JSONRPCErrorCode.invalidRequest
        case .timedOut: JSONRPCErrorCode.requestTimeout
        case .upstreamUnavailable, .upstreamExited, .upstreamNotReading, .upstreamAnswerRefused, .tooManyInFlight, .shuttingDown, .plugin:
            JSONRPCErrorCode.internalError
        case .blockedByPlugin: Self.blockedByPluginCode
        }
    }

    public var description: String {
        switch self {
        case .unknownTool(let name): "Unknown tool: \(name)"
        case .unknownPrompt(let name): "Unknown prompt: \(name)"
        case .unknownResource(let uri): "Resource not found: \(uri)"
        case .invalidParams(let method, let reason): "Invalid params for \(method): \(reason)"
        case .methodNotFound(let method): "Method not found: \(method)"
        case .notInitialized(let method): "Received \(method) before initialize"
        case .upstreamUnavailable(let server, let method, let reason):
            "Upstream server '\(server)' is unavailable for \(method): \(reason)"
        case .upstreamExited(let server, let method, let status):
            "Upstream server '\(server)' \(status) before answering \(method)"
        case .upstreamNotReading(let server, let method, let queued):
            "Upstream server '\(server)' is not reading its input (\(queued) bytes queued); \(method) was not sent"
        case .upstreamAnswerRefused(let server, let method, let reason):
            "Upstream server '\(server)' answered \(method), but plugboard could not accept the answer: \(reason)"
        case .timedOut(let server, let method, let seconds):
            "Request timed out: upstream server '\(server)' did not answer \(method) within \(Self.format(seconds))"
        case .tooManyInFlight(let server, let limit):
            "Upstream server '\(server)' already has \(limit) requests in flight (limits.max_in_flight)"
        case .shuttingDown(let method): "plugboard is shutting down; \(method) was not forwarded"
        case .plugin(let failure): "The call failed in a plugin: \(failure)"
        case .blockedByPlugin(let plugin, let phase, let reason):
            phase == .request ? "Blocked by plugin '\(plugin)': \(reason)" : "Result withheld by plugin '\(plugin)': \(reason)"
        }
    }

    var data: JSONValue? {
        switch self {
        case .upstreamUnavailable(let server, let method, _), .upstreamExited(let server, let method, _),
            .upstreamNotReading(let server, let method, _), .upstreamAnswerRefused(let server, let method, _), .timedOut(let server, let method, _):
            ["server": .string(server), "method": .string(method)]
        case .tooManyInFlight(let server, _): ["server": .string(server)]
        case .plugin(let failure):
            ["plugin": .string(failure.plugin), "phase": .string(failure.phase.rawValue), "kind": .string(failure.kind.name)]
        case .blockedByPlugin(let plugin, let phase, let reason):
            ["plugin": .string(plugin), "phase": .string(phase.rawValue), "reason": .string(reason)]
        default: nil
        }
    }

    /// The server-error code plugboard uses when a plugin refuses a request or withholds a result.
    public static let blockedByPluginCode = -32010

    /// The error response for a request whose id token was `idText`.
    func response(idText: [UInt8]?) -> [UInt8] {
        JSONRPCMessage.error(idText: idText, code: code, message: description, data: data)
    }

    /// The error response in the codes of the client's era: 2026-07-28 reports an unknown
    /// resource as invalid params, and keeps its own timeouts out of the reserved range.
    func response(idText: [UInt8]?, era: ProtocolEra) -> [UInt8] {
        guard era == .modern else { return response(idText: idText) }
        let modernCode = switch self {
        case .unknownResource: JSONRPCErrorCode.invalidParams
        default: code
        }
        return JSONRPCMessage.error(idText: idText, code: modernCode, message: description, data: data)
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
