/// A cursor over a document's bytes that knows its line and column.
struct TOMLScanner {
    let bytes: [UInt8]
    let file: String
    var position = 0
    private(set) var line = 1
    private var lineStart = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var isAtEnd: Bool { position >= bytes.count }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    func peek(_ offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    func startsWith(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = text.utf8Start
        for offset in 0..<count where bytes[position + offset] != pointer[offset] {
            return false
        }
        return true
    }

    var location: TOMLLocation { location(at: position) }

    /// The location of a byte on the current line.
    func location(at index: Int) -> TOMLLocation {
        var column = 1
        var cursor = lineStart
        while cursor < index && cursor < bytes.count {
            if bytes[cursor] & 0xC0 != 0x80 { column += 1 }
            cursor += 1
        }
        return TOMLLocation(file: file, line: line, column: column)
    }

    func error(_ message: String) -> TOMLError {
        TOMLError(location: location, message: message)
    }

    func error(_ message: String, at location: TOMLLocation) -> TOMLError {
        TOMLError(location: location, message: message)
    }

    /// Advances past one byte that is not a line feed.
    mutating func advance(_ count: Int = 1) {
        position += count
    }

    /// Consumes `\n` or `\r\n` if one is next.
    mutating func consumeNewline() -> Bool {
        if current == UInt8(ascii: "\n") {
            position += 1
        } else if current == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") {
            position += 2
        } else {
            return false
        }
        line += 1
        lineStart = position
        return true
    }

    var atNewline: Bool {
        current == UInt8(ascii: "\n") || (current == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n"))
    }

    mutating func skipWhitespace() {
        while let byte = current, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
            position += 1
        }
    }

    /// Skips a `#` comment up to (not including) the end of the line, rejecting control characters in it.
    mutating func skipComment() throws(TOMLError) {
        guard current == UInt8(ascii: "#") else { return }
        while let byte = current, !atNewline {
            if isForbiddenControl(byte) {
                throw error("control character \(describe(byte)) is not allowed in a comment")
            }
            position += 1
        }
    }

    /// Skips whitespace, comments and newlines, as allowed between array elements.
    mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLError) {
        while true {
            skipWhitespace()
            try skipComment()
            if !consumeNewline() { return }
        }
    }

    /// Requires the end of the line (after optional whitespace and comment) or of the document.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        try skipComment()
        if isAtEnd || consumeNewline() { return }
        if current == UInt8(ascii: "\r") {
            throw error("carriage return must be followed by a line feed")
        }
        throw error("expected a new line after \(what), found \(describeCurrent())")
    }

    mutating func skipByteOrderMark() {
        if startsWith("\u{FEFF}") { position += 3 }
    }

    func describeCurrent() -> String {
        guard let byte = current else { return "end of file" }
        return describe(byte)
    }

    func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\n"): return "end of line"
        case UInt8(ascii: "\r"): return "carriage return"
        case UInt8(ascii: "\t"): return "tab"
        case 0..<0x20, 0x7F: return "U+\(hex(byte))"
        case 0x80...:
            // Show the whole scalar rather than its first byte.
            var end = position + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "`\(String(decoding: bytes[min(position, bytes.count)..<min(end, bytes.count)], as: UTF8.self))`"
        default: return "`\(Character(Unicode.Scalar(byte)))`"
        }
    }
}

/// Control characters TOML forbids in comments and strings.
///
/// Tab is allowed; line feeds are handled by the callers, and a carriage return
/// is only allowed as part of CRLF, which callers check before asking.
func isForbiddenControl(_ byte: UInt8) -> Bool {
    (byte < 0x20 && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\n")) || byte == 0x7F
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "00" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
}
