import JSON

/// Builders for compact JSON-RPC 2.0 messages (without a trailing newline).
///
/// Members are written in a fixed order: `jsonrpc`, `id`, then the rest. The builders
/// do not check that `params` is an object or array; callers pass what they mean.
public enum JSONRPCMessage {
    /// `{"jsonrpc":"2.0","id":…,"method":…,"params":…}`; `params` omitted when nil.
    public static func request(id: JSONRPCID, method: String, params: JSONValue? = nil) -> [UInt8] {
        var out = start(capacity: 64 + method.utf8.count + (params?.estimatedSerializedByteCount ?? 0))
        out.append(contentsOf: #","id":"#.utf8)
        id.jsonValue.serialize(into: &out)
        appendMethod(method, params: params, to: &out)
        return out
    }

    /// `{"jsonrpc":"2.0","method":…,"params":…}`; `params` omitted when nil.
    public static func notification(method: String, params: JSONValue? = nil) -> [UInt8] {
        var out = start(capacity: 48 + method.utf8.count + (params?.estimatedSerializedByteCount ?? 0))
        appendMethod(method, params: params, to: &out)
        return out
    }

    /// `{"jsonrpc":"2.0","id":<idText>,"result":…}` where `idText` is the id's JSON text,
    /// typically sliced from the request with `JSONRPCEnvelope.idRange`.
    public static func success(idText: [UInt8], result: JSONValue) -> [UInt8] {
        var out = start(capacity: 32 + idText.count + result.estimatedSerializedByteCount)
        out.append(contentsOf: #","id":"#.utf8)
        out.append(contentsOf: idText)
        out.append(contentsOf: #","result":"#.utf8)
        result.serialize(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A success response for a known id.
    public static func success(id: JSONRPCID, result: JSONValue) -> [UInt8] {
        success(idText: id.jsonBytes, result: result)
    }

    /// `{"jsonrpc":"2.0","id":<idText or null>,"error":{"code":…,"message":…,"data":…}}`;
    /// `data` omitted when nil.
    public static func error(idText: [UInt8]?, code: Int, message: String, data: JSONValue? = nil) -> [UInt8] {
        var out = start(capacity: 64 + message.utf8.count + (data?.estimatedSerializedByteCount ?? 0))
        out.append(contentsOf: #","id":"#.utf8)
        if let idText {
            out.append(contentsOf: idText)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","error":{"code":"#.utf8)
        JSONValue.number(JSONNumber(code)).serialize(into: &out)
        out.append(contentsOf: #","message":"#.utf8)
        JSONValue.string(message).serialize(into: &out)
        if let data {
            out.append(contentsOf: #","data":"#.utf8)
            data.serialize(into: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// An error response for a known id, or with a null id when `id` is nil.
    public static func error(id: JSONRPCID?, code: Int, message: String, data: JSONValue? = nil) -> [UInt8] {
        error(idText: id?.jsonBytes, code: code, message: message, data: data)
    }

    private static func start(capacity: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(contentsOf: #"{"jsonrpc":"2.0""#.utf8)
        return out
    }

    private static func appendMethod(_ method: String, params: JSONValue?, to out: inout [UInt8]) {
        out.append(contentsOf: #","method":"#.utf8)
        JSONValue.string(method).serialize(into: &out)
        if let params {
            out.append(contentsOf: #","params":"#.utf8)
            params.serialize(into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
