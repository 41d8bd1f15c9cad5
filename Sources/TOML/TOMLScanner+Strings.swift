extension TOMLScanner {
    /// Parses any of the four string forms; the cursor is on the opening quote.
    mutating func parseString(allowMultiline: Bool = true) throws(TOMLError) -> String {
        let quote = current!
        let tripled = quote == UInt8(ascii: "\"") ? startsWith("\"\"\"") : startsWith("'''")
        if tripled {
            guard allowMultiline else { throw error("a multi-line string cannot be used as a key") }
            return quote == UInt8(ascii: "\"") ? try parseMultilineBasicString() : try parseMultilineLiteralString()
        }
        return quote == UInt8(ascii: "\"") ? try parseBasicString() : try parseLiteralString()
    }

    private mutating func parseBasicString() throws(TOMLError) -> String {
        let start = location
        advance()
        var result: [UInt8] = []
        while true {
            guard let byte = current, byte != UInt8(ascii: "\n"), !atNewline else {
                throw error("unterminated basic string that starts at \(start)", at: start)
            }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: result, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &result, kind: "basic string")
            default:
                try appendStringByte(byte, into: &result, kind: "basic string")
            }
        }
    }

    private mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = location
        advance()
        var result: [UInt8] = []
        while true {
            guard let byte = current, byte != UInt8(ascii: "\n"), !atNewline else {
                throw error("unterminated literal string that starts at \(start)", at: start)
            }
            if byte == UInt8(ascii: "'") {
                advance()
                return String(decoding: result, as: UTF8.self)
            }
            try appendStringByte(byte, into: &result, kind: "literal string")
        }
    }

    private mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let start = location
        advance(3)
        _ = consumeNewline()  // A newline right after the opening quotes is trimmed.
        var result: [UInt8] = []
        while true {
            guard let byte = current else {
                throw error("unterminated multi-line basic string that starts at \(start)", at: start)
            }
            if byte == UInt8(ascii: "\"") && startsWith("\"\"\"") {
                try closeMultiline(quote: byte, into: &result)
                break
            } else if byte == UInt8(ascii: "\\") {
                if try !skipLineEndingBackslash() {
                    try parseEscape(into: &result, kind: "multi-line basic string")
                }
            } else if atNewline {
                _ = consumeNewline()
                result.append(UInt8(ascii: "\n"))
            } else {
                try appendStringByte(byte, into: &result, kind: "multi-line basic string")
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let start = location
        advance(3)
        _ = consumeNewline()
        var result: [UInt8] = []
        while true {
            guard let byte = current else {
                throw error("unterminated multi-line literal string that starts at \(start)", at: start)
            }
            if byte == UInt8(ascii: "'") && startsWith("'''") {
                try closeMultiline(quote: byte, into: &result)
                break
            } else if atNewline {
                _ = consumeNewline()
                result.append(UInt8(ascii: "\n"))
            } else {
                try appendStringByte(byte, into: &result, kind: "multi-line literal string")
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Handles a run of three or more quotes: up to two extra quotes belong to the content.
    private mutating func closeMultiline(quote: UInt8, into result: inout [UInt8]) throws(TOMLError) {
        var count = 0
        while peek(count) == quote { count += 1 }
        if count > 5 {
            advance(5)
            throw error("too many quotes: at most two may precede a closing `\(Character(Unicode.Scalar(quote)))\(Character(Unicode.Scalar(quote)))\(Character(Unicode.Scalar(quote)))`")
        }
        result.append(contentsOf: repeatElement(quote, count: count - 3))
        advance(count)
    }

    /// A backslash that ends a line (trailing whitespace allowed) swallows all whitespace and newlines after it.
    private mutating func skipLineEndingBackslash() throws(TOMLError) -> Bool {
        var lookahead = 1
        while peek(lookahead) == UInt8(ascii: " ") || peek(lookahead) == UInt8(ascii: "\t") { lookahead += 1 }
        let next = peek(lookahead)
        let isLineEnd = next == UInt8(ascii: "\n") || (next == UInt8(ascii: "\r") && peek(lookahead + 1) == UInt8(ascii: "\n"))
        guard isLineEnd else { return false }
        advance(lookahead)
        while true {
            skipWhitespace()
            if !consumeNewline() { return true }
        }
    }

    private mutating func appendStringByte(_ byte: UInt8, into result: inout [UInt8], kind: String) throws(TOMLError) {
        if isForbiddenControl(byte) {
            throw error("control character \(describe(byte)) must be escaped in a \(kind)")
        }
        result.append(byte)
        advance()
    }

    private mutating func parseEscape(into result: inout [UInt8], kind: String) throws(TOMLError) {
        let start = location
        advance()
        guard let letter = current else { throw error("unterminated escape sequence in \(kind)") }
        let simple: UInt8? = switch letter {
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "\""): UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        default: nil
        }
        if let simple {
            result.append(simple)
            advance()
            return
        }
        let digitCount = letter == UInt8(ascii: "u") ? 4 : letter == UInt8(ascii: "U") ? 8 : 0
        guard digitCount > 0 else {
            let shown = letter < 0x20 || letter >= 0x7F ? describe(letter) : "`\\\(Character(Unicode.Scalar(letter)))`"
            throw error("invalid escape \(shown) in \(kind); valid escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX", at: start)
        }
        advance()
        var code: UInt32 = 0
        for _ in 0..<digitCount {
            guard let byte = current, let digit = hexDigitValue(byte) else {
                throw error("`\\\(Character(Unicode.Scalar(letter)))` must be followed by \(digitCount) hexadecimal digits", at: start)
            }
            code = code << 4 | UInt32(digit)
            advance()
        }
        guard let scalar = Unicode.Scalar(code) else {
            throw error("escape \\\(Character(Unicode.Scalar(letter)))\(String(code, radix: 16, uppercase: true)) is not a Unicode scalar value (surrogates and values past 10FFFF are not allowed)", at: start)
        }
        result.append(contentsOf: Array(String(Character(scalar)).utf8))
    }
}

func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
