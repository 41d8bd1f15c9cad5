import JSON
import JSONRPC

/// The per-request protocol fields a modern (2026-07-28) request carries in `params._meta`.
public struct RequestMeta: Equatable, Sendable {
    public static let protocolVersionKey = "io.modelcontextprotocol/protocolVersion"
    static let clientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    static let logLevelKey = "io.modelcontextprotocol/logLevel"
    static let serverInfoKey = "io.modelcontextprotocol/serverInfo"
    static let subscriptionIDKey = "io.modelcontextprotocol/subscriptionId"
    /// The prefix reserved for MCP's own `_meta` keys.
    static let reservedPrefix = "io.modelcontextprotocol/"

    var protocolVersion: String
    var clientCapabilities: JSONObject
    var clientInfo: JSONValue?
    var logLevel: String?

    /// Whether the message's `params._meta` mentions the modern protocol-version key at all, found without parsing.
    public static func mayBeModern(_ message: [UInt8], envelope: JSONRPCEnvelope) -> Bool {
        guard let range = envelope.paramsMetaRange else { return false }
        return message[range].contains(subsequence: protocolVersionKeyBytes)
    }

    /// Whether the message's `params._meta` has the modern protocol-version key.
    public static func namesProtocolVersion(_ message: [UInt8], envelope: JSONRPCEnvelope) -> Bool {
        guard mayBeModern(message, envelope: envelope), let range = envelope.paramsMetaRange else { return false }
        return (try? JSONParser.parse(message[range]))?[protocolVersionKey] != nil
    }
    static let protocolVersionKeyBytes = Array("\"\(protocolVersionKey)\"".utf8)
    static let reservedPrefixBytes = Array("\"\(reservedPrefix)".utf8)

    /// Why a request's `_meta` is not a valid modern one.
    enum Violation: Error, Equatable {
        case unsupportedVersion(String)
        case malformed(String)
    }

    /// The modern fields of `params._meta`: nil when the request is not modern (no protocol
    /// version there), a violation when it is but the fields are wrong.
    static func read(params: JSONValue?) -> Result<RequestMeta, Violation>? {
        read(meta: params?["_meta"])
    }


    /// The modern fields of a `_meta` object.
    static func read(meta: JSONValue?) -> Result<RequestMeta, Violation>? {
        guard let meta = meta?.objectValue, let versionValue = meta[protocolVersionKey] else { return nil }
        guard let version = versionValue.stringValue else {
            return .failure(.malformed("_meta[\"\(protocolVersionKey)\"] must be a string"))
        }
        guard ProtocolVersion.isModern(version) else { return .failure(.unsupportedVersion(version)) }
        guard let capabilities = meta[clientCapabilitiesKey] else {
            return .failure(.malformed("_meta[\"\(clientCapabilitiesKey)\"] is required"))
        }
        guard let capabilitiesObject = capabilities.objectValue else {
            return .failure(.malformed("_meta[\"\(clientCapabilitiesKey)\"] must be an object"))
        }
        if let info = meta[clientInfoKey], info.objectValue == nil {
            return .failure(.malformed("_meta[\"\(clientInfoKey)\"] must be an object"))
        }
        return .success(
            RequestMeta(
                protocolVersion: version, clientCapabilities: capabilitiesObject, clientInfo: meta[clientInfoKey],
                logLevel: meta[logLevelKey]?.stringValue))
    }

    /// The fields as `_meta` entries.
    var entries: JSONObject {
        var entries: JSONObject = [
            Self.protocolVersionKey: .string(protocolVersion),
            Self.clientCapabilitiesKey: .object(clientCapabilities),
        ]
        if let clientInfo { entries[Self.clientInfoKey] = clientInfo }
        if let logLevel { entries[Self.logLevelKey] = .string(logLevel) }
        return entries
    }

    /// What plugboard says of itself when it asks on its own behalf (probes, lists, health checks).
    static let plugboard = RequestMeta(
        protocolVersion: ProtocolVersion.latestModern,
        clientCapabilities: bridgeableCapabilities,
        clientInfo: ["name": "plugboard", "version": .string(PlugboardVersion.current)])

    /// What plugboard can carry between a server and its clients in either era.
    static let bridgeableCapabilities: JSONObject = [
        "sampling": [:], "elicitation": ["form": [:], "url": [:]], "roots": [:],
    ]

    /// The legacy `initialize` params that stand for a modern client: its capabilities and identity.
    var initializeParams: JSONValue {
        [
            "protocolVersion": .string(ProtocolVersion.latestLegacy),
            "capabilities": .object(clientCapabilities),
            "clientInfo": clientInfo ?? ["name": "plugboard", "version": .string(PlugboardVersion.current)],
        ]
    }

    /// The modern fields that stand for a legacy client, from its `initialize` params.
    static func standingFor(initializeParams params: JSONObject) -> RequestMeta {
        RequestMeta(
            protocolVersion: ProtocolVersion.latestModern,
            clientCapabilities: params["capabilities"]?.objectValue ?? [:],
            clientInfo: params["clientInfo"])
    }

    /// The client capability an input request (sampling, elicitation, roots) needs.
    static func capability(forInputMethod method: String) -> String? {
        switch method {
        case MCPMethod.samplingCreateMessage: "sampling"
        case MCPMethod.elicitationCreate: "elicitation"
        case MCPMethod.rootsList: "roots"
        default: nil
        }
    }
}

/// Reads the modern fields of requests' `params._meta`, located by the envelope scan and
/// parsed without the rest of the request. A client sends the same `_meta` bytes on request
/// after request, so the last one read is remembered and its bytes compared instead.
struct RequestMetaReader {
    private var lastBytes: [UInt8] = []
    private var lastRead: Result<RequestMeta, RequestMeta.Violation>?

    mutating func read(_ message: [UInt8], envelope: JSONRPCEnvelope) -> Result<RequestMeta, RequestMeta.Violation>? {
        guard RequestMeta.mayBeModern(message, envelope: envelope), let range = envelope.paramsMetaRange else { return nil }
        let bytes = message[range]
        if let lastRead, bytes.sameBytes(as: lastBytes) { return lastRead }
        let read = RequestMeta.read(meta: try? JSONParser.parse(bytes))
        lastBytes = Array(bytes)
        lastRead = read
        return read
    }
}

extension JSONValue {
    /// A request with `meta`'s fields set in `params._meta` (keys already there win).
    func addingRequestMeta(_ meta: RequestMeta) -> JSONValue {
        guard case .object(var message) = self else { return self }
        var params = message["params"]?.objectValue ?? [:]
        var existing = params["_meta"]?.objectValue ?? [:]
        for (key, value) in meta.entries where existing[key] == nil { existing[key] = value }
        params["_meta"] = .object(existing)
        message["params"] = .object(params)
        return .object(message)
    }

    /// A request without the modern per-request fields in `params._meta`, for a legacy server.
    func removingRequestMeta() -> JSONValue {
        guard case .object(var message) = self, var params = message["params"]?.objectValue,
            var meta = params["_meta"]?.objectValue
        else { return self }
        for key in [RequestMeta.protocolVersionKey, RequestMeta.clientCapabilitiesKey, RequestMeta.clientInfoKey, RequestMeta.logLevelKey] {
            meta[key] = nil
        }
        params["_meta"] = meta.isEmpty ? nil : .object(meta)
        message["params"] = .object(params)
        return .object(message)
    }
}
