/// The HTTP/1.x versions spoken on the wire.
public enum HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    case http1_0
    case http1_1

    /// As on the wire: `HTTP/1.1`.
    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        }
    }

    /// Reads `HTTP/1.0` or `HTTP/1.1`; nil for anything else.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> HTTPVersion? {
        guard isWellFormed(bytes, range), bytes[range.lowerBound + 5] == 0x31 else { return nil }
        switch bytes[range.lowerBound + 7] {
        case 0x30: return .http1_0
        case 0x31: return .http1_1
        default: return nil
        }
    }

    /// Whether the text has the shape `HTTP/<digit>.<digit>`, whatever the numbers.
    static func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count == 8 else { return false }
        let start = range.lowerBound
        return bytes[start] == 0x48 && bytes[start + 1] == 0x54 && bytes[start + 2] == 0x54 && bytes[start + 3] == 0x50
            && bytes[start + 4] == ASCII.slash && ASCII.isDigit(bytes[start + 5]) && bytes[start + 6] == 0x2E
            && ASCII.isDigit(bytes[start + 7])
    }
}
