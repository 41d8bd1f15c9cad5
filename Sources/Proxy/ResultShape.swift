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
        var fields = Array(#""resultType":"complete""#.utf8)
        if cacheableMethods.contains(method) { fields += #","ttlMs":0,"cacheScope":"private""#.utf8 }
        let afterBrace = resultRange.lowerBound + 1
        var next = afterBrace
        while next < resultRange.upperBound, JSONWhitespace.contains(response[next]) { next += 1 }
        if response[next] != UInt8(ascii: "}") { fields.append(UInt8(ascii: ",")) }
        // Two edits, in the order they sit in the message: the id, and the insertion.
        let edits: [(range: Range<Int>, with: [UInt8])] = [(idRange, idText), (afterBrace..<afterBrace, fields)].sorted { $0.range.lowerBound < $1.range.lowerBound }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(response.count + fields.count + idText.count)
        var position = 0
        for edit in edits {
            bytes += response[position..<edit.range.lowerBound]
            bytes += edit.with
            position = edit.range.upperBound
        }
        bytes += response[position...]
        return bytes
    }

    private static let legacyResourceNotFound = Array("-32002".utf8)
    private static let JSONWhitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
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
