/// Why a byte sequence is not RFC 8259 JSON, and where.
///
/// `line` and `column` are 1-based; `column` counts Unicode scalars from the start
/// of the line, `byteOffset` counts bytes from the start of the input.
public struct JSONError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The input ended where `expected` was required.
        case unexpectedEnd(expected: String)
        /// A byte appeared where `expected` was required.
        case unexpectedByte(UInt8, expected: String)
        /// A number broke the grammar in a way `unexpectedByte` describes poorly.
        case invalidNumber(reason: String)
        /// A backslash in a string was followed by this byte, which is not an escape.
        case invalidEscape(UInt8)
        /// A `\u` escape named a UTF-16 surrogate that is not part of a high-low pair.
        case loneSurrogate(UInt16)
        /// A string contained bytes that are not well-formed UTF-8.
        case invalidUTF8
        /// A string contained a raw control character (U+0000 to U+001F).
        case unescapedControlCharacter(UInt8)
        /// An object named the same member twice.
        case duplicateKey(String)
        /// Something other than whitespace followed the top-level value.
        case trailingData
        /// Arrays and objects were nested deeper than the limit.
        case depthLimitExceeded(limit: Int)

        public var description: String {
            switch self {
            case .unexpectedEnd(let expected):
                return "expected \(expected), found end of input"
            case .unexpectedByte(let byte, let expected):
                return "expected \(expected), found \(JSONError.describe(byte))"
            case .invalidNumber(let reason):
                return "invalid number: \(reason)"
            case .invalidEscape(let byte):
                return "invalid escape sequence '\\\(JSONError.printable(byte))' in string"
            case .loneSurrogate(let unit):
                return "lone UTF-16 surrogate \\u\(JSONError.hex(unit)) in string; surrogates must form a high-low pair"
            case .invalidUTF8:
                return "invalid UTF-8 byte sequence"
            case .unescapedControlCharacter(let byte):
                return "unescaped control character U+00\(JSONError.hex(UInt16(byte)).suffix(2)) in string"
            case .duplicateKey(let key):
                return "duplicate member name \"\(key)\" in object"
            case .trailingData:
                return "unexpected data after the JSON value"
            case .depthLimitExceeded(let limit):
                return "arrays and objects nested deeper than the limit of \(limit)"
            }
        }
    }

    /// What went wrong.
    public var kind: Kind
    /// Offset of the offending byte from the start of the input.
    public var byteOffset: Int
    /// 1-based line of the offending byte.
    public var line: Int
    /// 1-based column (in Unicode scalars) of the offending byte.
    public var column: Int

    /// Creates an error with an explicit position.
    public init(kind: Kind, byteOffset: Int, line: Int, column: Int) {
        self.kind = kind
        self.byteOffset = byteOffset
        self.line = line
        self.column = column
    }

    /// Creates an error, deriving line and column from the input; only runs on failure.
    init(kind: Kind, byteOffset: Int, in input: UnsafeRawBufferPointer) {
        let limit = min(max(byteOffset, 0), input.count)
        var line = 1
        var lineStart = 0
        for i in 0..<limit where input[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        var column = 1
        for i in lineStart..<limit where input[i] & 0xC0 != 0x80 {
            column += 1
        }
        self.init(kind: kind, byteOffset: byteOffset, line: line, column: column)
    }

    public var description: String {
        "line \(line), column \(column): \(kind)"
    }

    static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(printable(byte))'" : "byte 0x\(hex(UInt16(byte)).suffix(2))"
    }

    static func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + hex(UInt16(byte)).suffix(2)
    }

    static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
