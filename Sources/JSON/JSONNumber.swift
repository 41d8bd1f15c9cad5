/// A JSON number that keeps its literal text, so numbers round-trip exactly.
///
/// Equality and hashing compare the canonical literal text, not numeric value: `1`,
/// `1.0` and `1e0` are three different numbers here, as are `0` and `-0`, because
/// numeric equality across integers beyond 2^53, decimals and overflowing exponents
/// has no answer that is both transitive and faithful. Integer literals that fit in
/// Int64 are stored as integers and print in their only canonical form.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        case integer(Int64)
        /// Any other valid literal: fractions, exponents, `-0`, integers beyond Int64.
        case literal(String)
    }

    let storage: Storage

    /// An integer.
    public init(_ value: Int64) {
        storage = .integer(value)
    }

    /// An integer.
    public init(_ value: Int) {
        storage = .integer(Int64(value))
    }

    /// A finite double written as the shortest text that reads back as the same double.
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON has no representation for \(value)")
        storage = .literal(value.description)
    }

    /// Validates `text` against the RFC 8259 number grammar (no surrounding whitespace).
    public init?(text: String) {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first &- UInt8(ascii: "0")) < 10 else {
            return nil
        }
        var text = text
        let number: JSONNumber? = text.withUTF8 { buffer in
            var reader = JSONSyntaxReader(UnsafeRawBufferPointer(buffer), maxDepth: 0)
            guard let token = try? reader.scanNumber(), reader.position == buffer.count else { return nil }
            return JSONNumber(token: token, in: reader)
        }
        guard let number else { return nil }
        self = number
    }

    init(token: JSONNumberToken, in reader: JSONSyntaxReader) {
        if let value = token.integerValue, !(value == 0 && token.isNegative) {
            storage = .integer(value)
        } else {
            let bytes = UnsafeBufferPointer(
                start: (reader.base + token.start).assumingMemoryBound(to: UInt8.self), count: token.end - token.start)
            storage = .literal(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The literal JSON text of the number.
    public var text: String {
        switch storage {
        case .integer(let value): return String(value)
        case .literal(let text): return text
        }
    }

    public var description: String { text }

    /// The value if the literal is an integer (no fraction, no exponent) that fits in Int64.
    ///
    /// `1e2` and `100.0` give nil even though they are whole; `-0` gives 0.
    public var int64Value: Int64? {
        switch storage {
        case .integer(let value): return value
        case .literal(let text): return text == "-0" ? 0 : nil
        }
    }

    /// The nearest double; literals beyond the double range give ±infinity.
    public var doubleValue: Double {
        switch storage {
        case .integer(let value):
            return Double(value)
        case .literal(let text):
            if let value = Double(text) { return value }
            return text.hasPrefix("-") ? -.infinity : .infinity
        }
    }

    func append(to out: inout [UInt8]) {
        switch storage {
        case .integer(let value):
            Self.appendDecimal(value, to: &out)
        case .literal(let text):
            out.append(contentsOf: text.utf8)
        }
    }

    private static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Twenty digits hold UInt64.max; fill from the right, then copy once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }
}
