/// The bytes and character classes of RFC 9110 §5.6 that the parsers test for.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let questionMark: UInt8 = 0x3F
    static let zero: UInt8 = 0x30
    static let nul: UInt8 = 0x00

    /// `tchar`: the characters of methods, header names and transfer codings.
    @inline(__always)
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// What a field value may hold: visible characters, space, tab and obs-text (0x80-0xFF).
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= space && byte != 0x7F)
    }

    /// Optional whitespace (OWS): space or tab.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    /// Whether `bytes[range]` spells `lowercaseText`, ignoring ASCII case.
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lowercaseText: StaticString) -> Bool {
        guard range.count == lowercaseText.utf8CodeUnitCount else { return false }
        let text = lowercaseText.utf8Start
        var offset = 0
        for index in range {
            guard lowercased(bytes[index]) == text[offset] else { return false }
            offset += 1
        }
        return true
    }

    /// `range` without optional whitespace at either end.
    static func trimmingWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower && isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// Calls `body` with each non-empty element of a comma-separated list, trimmed.
    static func forEachListElement<Failure: Error>(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ body: (Range<Int>) throws(Failure) -> Void
    ) throws(Failure) {
        var elementStart = range.lowerBound
        for index in range where bytes[index] == comma {
            let element = trimmingWhitespace(bytes, elementStart..<index)
            if !element.isEmpty { try body(element) }
            elementStart = index + 1
        }
        let last = trimmingWhitespace(bytes, elementStart..<range.upperBound)
        if !last.isEmpty { try body(last) }
    }

    /// Text for bytes that passed field-value validation: UTF-8 when it is valid, otherwise
    /// Latin-1 (each byte one scalar), so no input is refused for its encoding alone.
    static func decodeFieldText(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, isASCII: Bool) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if isASCII { return String(decoding: slice, as: UTF8.self) }
        if let text = String(validating: slice, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        for byte in slice { scalars.append(Unicode.Scalar(byte)) }
        return String(scalars)
    }
}
