extension DocumentParser {
    /// Parses one value; the cursor is on its first byte.
    mutating func parseValue() throws(TOMLError) -> TOMLValue {
        guard let byte = scanner.current, !scanner.atNewline else {
            throw scanner.error("expected a value, found \(scanner.describeCurrent())")
        }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return .string(try scanner.parseString())
        case UInt8(ascii: "["):
            return .array(try parseArray())
        case UInt8(ascii: "{"):
            return .table(try parseInlineTable())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return try parseBoolean()
        case _ where isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "i") || byte == UInt8(ascii: "n"):
            return try scanner.parseNumberOrDateTime()
        default:
            throw scanner.error("expected a value, found \(scanner.describeCurrent()); strings must be quoted")
        }
    }

    private mutating func parseBoolean() throws(TOMLError) -> TOMLValue {
        let start = scanner.location
        let first = scanner.position
        while let byte = scanner.current, isBareKeyByte(byte) || byte == UInt8(ascii: ".") { scanner.advance() }
        let word = String(decoding: scanner.bytes[first..<scanner.position], as: UTF8.self)
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default: throw scanner.error("invalid value `\(word)`; booleans are `true` or `false` and strings must be quoted", at: start)
        }
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLArray {
        let start = scanner.location
        scanner.advance()
        var items: [TOMLArray.Item] = []
        while true {
            try scanner.skipWhitespaceCommentsAndNewlines()
            if scanner.current == UInt8(ascii: "]") { break }
            if scanner.isAtEnd { throw scanner.error("unterminated array that starts at \(start); expected `]`") }
            let location = scanner.location
            items.append(.init(value: try parseValue(), location: location))
            try scanner.skipWhitespaceCommentsAndNewlines()
            if scanner.current == UInt8(ascii: ",") {
                scanner.advance()
            } else if scanner.current != UInt8(ascii: "]") {
                throw scanner.error("expected `,` or `]` after an array element, found \(scanner.describeCurrent())")
            }
        }
        scanner.advance()
        return TOMLArray(items: items)
    }

    private mutating func parseInlineTable() throws(TOMLError) -> TOMLTable {
        let table = TableBuilder(origin: .header, location: scanner.location)
        let section = newSection()
        scanner.advance()
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.advance()
            return table.build()
        }
        while true {
            scanner.skipWhitespace()
            if scanner.current == UInt8(ascii: "}") {
                throw scanner.error("a trailing comma is not allowed in an inline table")
            }
            _ = try parseKeyValue(into: table, section: section)
            scanner.skipWhitespace()
            switch scanner.current {
            case UInt8(ascii: ","):
                scanner.advance()
            case UInt8(ascii: "}"):
                scanner.advance()
                return table.build()
            case _ where scanner.atNewline || scanner.current == UInt8(ascii: "\n"):
                throw scanner.error("an inline table must be written on one line; expected `,` or `}`")
            default:
                throw scanner.error("expected `,` or `}` in inline table, found \(scanner.describeCurrent())")
            }
        }
    }
}
