import JSON

/// A JSON-RPC request id: a string or an integer.
///
/// Fractional and null ids are not representable: the scanner rejects the former,
/// and reports the latter (allowed only on error responses) as `hasNullID`.
public enum JSONRPCID: Sendable, Hashable, CustomStringConvertible {
    case number(Int64)
    case string(String)

    /// The id as a JSON value.
    public var jsonValue: JSONValue {
        switch self {
        case .number(let value): return .number(JSONNumber(value))
        case .string(let value): return .string(value)
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
            guard let value = number.int64Value else { return nil }
            self = .number(value)
        default: return nil
        }
    }
}
