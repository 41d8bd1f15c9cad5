import JSON
import JSONRPC

/// What a modern (2026-07-28) client is owed on every result that a legacy server did not
/// write: `resultType`, and on cacheable results `ttlMs` and `cacheScope`.
enum ResultShape {
    /// Results that must carry caching hints (server/utilities/caching.mdx).
    static let cacheableMethods: Set<String> = [
        MCPMethod.discover, MCPMethod.toolsList, MCPMethod.promptsList, MCPMethod.resourcesList,
        MCPMethod.resourceTemplatesList, MCPMethod.resourcesRead,
    ]

    /// A parsed result with the modern fields it lacks. A legacy server says nothing of
    /// freshness or audience, so its lists are stale at once and private.
    static func modern(_ result: JSONValue, method: String, ttlMs: Int64 = 0, cacheScope: String = "private") -> JSONValue {
        guard case .object(var object) = result else { return result }
        if object["resultType"] == nil { object["resultType"] = "complete" }
        if cacheableMethods.contains(method) {
            if object["ttlMs"] == nil { object["ttlMs"] = .number(JSONNumber(ttlMs)) }
            if object["cacheScope"] == nil { object["cacheScope"] = .string(cacheScope) }
        }
        return .object(object)
    }

    /// A legacy server's response, as bytes, made modern and given the client's id in one copy,
    /// without parsing the result: the fields are spliced in after the result's opening brace.
    /// A legacy server's -32002 (resource not found) becomes -32602, as 2026-07-28 numbers it.
    static func modernResponse(_ response: [UInt8], envelope: JSONRPCEnvelope, method: String, idText: [UInt8]) -> [UInt8] {
        let idRange = envelope.idRange!
        guard envelope.kind == .successResponse, let resultRange = envelope.resultRange, response[resultRange.lowerBound] == UInt8(ascii: "{") else {
            if envelope.kind == .errorResponse, let errorRange = envelope.errorRange,
                response[errorRange].contains(subsequence: legacyResourceNotFound),
                let parsed = try? JSONParser.parse(response), case .object(var message) = parsed, case .object(var error)? = message["error"],
                error["code"]?.int64Value == Int64(JSONRPCErrorCode.resourceNotFound)
            {
                error["code"] = .number(JSONNumber(JSONRPCErrorCode.invalidParams))
                message["error"] = .object(error)
                let bytes = JSONValue.object(message).serialized()
                if let rescanned = try? JSONRPCEnvelope.scan(bytes) { return replacingID(in: bytes, idRange: rescanned.idRange!, with: idText) }
            }
            return replacingID(in: response, idRange: idRange, with: idText)
        }
        let fields = cacheableMethods.contains(method) ? cacheableFields : completeFields
        let afterBrace = resultRange.lowerBound + 1
        var next = afterBrace
        while next < resultRange.upperBound, isWhitespace(response[next]) { next += 1 }
        let separator: [UInt8] = response[next] == UInt8(ascii: "}") ? [] : [UInt8(ascii: ",")]
        // Two edits, in the order they sit in the message: the id, and the insertion.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(response.count + fields.count + 1 + idText.count)
        if idRange.lowerBound < afterBrace {
            bytes += response[..<idRange.lowerBound]
            bytes += idText
            bytes += response[idRange.upperBound..<afterBrace]
            bytes += fields
            bytes += separator
            bytes += response[afterBrace...]
        } else {
            bytes += response[..<afterBrace]
            bytes += fields
            bytes += separator
            bytes += response[afterBrace..<idRange.lowerBound]
            bytes += idText
            bytes += response[idRange.upperBound...]
        }
        return bytes
    }

    private static let completeFields = Array(#""resultType":"complete""#.utf8)
    private static let cacheableFields = Array(#""resultType":"complete","ttlMs":0,"cacheScope":"private""#.utf8)

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static let legacyResourceNotFound = Array("-32002".utf8)
}

/// Multi Round-Trip Requests: a modern server's `InputRequiredResult`.
enum InputRequired {
    private static let marker = Array(#""input_required""#.utf8)

    /// Whether a response may be an `InputRequiredResult`, found without parsing.
    static func mayBe(_ response: [UInt8], envelope: JSONRPCEnvelope) -> Bool {
        guard let range = envelope.resultRange else { return false }
        return response[range].contains(subsequence: marker)
    }

    static func isInputRequired(_ result: JSONValue) -> Bool {
        result["resultType"]?.stringValue == "input_required"
    }

    /// The `InputRequiredResult` that asks a modern client for a legacy server's requests.
    static func result(asking inputs: [HeldCalls.Input], requestState: String) -> JSONValue {
        var requests: JSONObject = [:]
        for input in inputs {
            var request: JSONObject = ["method": .string(input.method)]
            if let params = input.params { request["params"] = params }
            requests[input.key] = .object(request)
        }
        return ["resultType": "input_required", "inputRequests": .object(requests), "requestState": .string(requestState)]
    }
}
