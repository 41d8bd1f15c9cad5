import JSON
import JSONRPC

/// `message` with its id token (at `idRange`) swapped for `idText`; the rest is copied untouched.
@inline(__always)
func replacingID(in message: [UInt8], idRange: Range<Int>, with idText: [UInt8]) -> [UInt8] {
    JSONRPCEnvelope.replacingID(in: message, idRange: idRange, with: idText)
}

extension JSONRPCMessage {
    /// A request of the proxy's own; its ids are integers handed over as preformatted text.
    static func request(idText: [UInt8], method: String, params: JSONValue?) -> [UInt8] {
        guard let id = Int64(String(decoding: idText, as: UTF8.self)) else {
            preconditionFailure("the proxy's own request ids are integers")
        }
        return request(id: .number(id), method: method, params: params)
    }
}
