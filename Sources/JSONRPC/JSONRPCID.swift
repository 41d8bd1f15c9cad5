import JSON

/// A JSON-RPC request id: a string or an integer.
///
/// Fractional and null ids are not representable: the scanner rejects the former,
/// and reports the latter (allowed only on error responses) as `hasNullID`.
public enum JSONRPCID: Sendable, Hashable, CustomStringConvertible {
    case number(Int64)
    case string(String)
    /// An integer beyond 64 bits, kept as its literal digits: a client gets it back as it sent it.
    case largeInteger(String)

    /// The id as a JSON value.
    public var jsonValue: JSONValue {
        switch self {
        case .number(let value): return .number(JSONNumber(value))
        case .string(let value): return .string(value)
        case .largeInteger(let digits): return .number(JSONNumber(text: digits) ?? JSONNumber(0))
        }
    }

    /// The id's compact JSON text as UTF-8, ready to splice into a message.
    public var jsonBytes: [UInt8] { jsonValue.serialized() }

    /// The id's compact JSON text.
    public var jsonText: String { jsonValue.serializedString }

    public var description: String { jsonText }
}

extension JSONRPCID {
    /// The id a JSON value stands for: a string, or an integer that fits in Int64.
    public init?(jsonValue: JSONValue) {
        switch jsonValue {
        case .string(let text): self = .string(text)
        case .number(let number):
            if let value = number.int64Value {
                self = .number(value)
            } else if Self.isIntegerLiteral(number.text) {
                self = .largeInteger(number.text)
            } else {
                return nil
            }
        default: return nil
        }
    }
}

extension JSONRPCID {
    /// `-?[0-9]+`: an integer literal with no fraction or exponent.
    static func isIntegerLiteral(_ text: String) -> Bool {
        let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
