/// Reads a document line by line into a tree of `TableBuilder`s, enforcing TOML's definition rules.
struct DocumentParser {
    var scanner: TOMLScanner
    private let root: TableBuilder
    /// Numbers each header block and inline table, so dotted keys can only extend tables of their own block.
    private var lastSection = 0

    init(scanner: TOMLScanner) {
        self.scanner = scanner
        root = TableBuilder(origin: .header, location: TOMLLocation(file: scanner.file, line: 1, column: 1))
    }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        var current = root
        var section = 0
        while true {
            try scanner.skipWhitespaceCommentsAndNewlines()
            guard let byte = scanner.current else { break }
            if byte == UInt8(ascii: "[") {
                current = try parseHeader()
                section = newSection()
            } else {
                let key = try parseKeyValue(into: current, section: section)
                try scanner.expectLineEnd(after: "the value of `\(key)`")
            }
        }
        return root.build()
    }

    mutating func newSection() -> Int {
        lastSection += 1
        return lastSection
    }

    // MARK: Headers

    private mutating func parseHeader() throws(TOMLError) -> TableBuilder {
        let start = scanner.location
        let isArray = scanner.startsWith("[[")
        scanner.advance(isArray ? 2 : 1)
        scanner.skipWhitespace()
        let path = try parseKey()
        let closing: StaticString = isArray ? "]]" : "]"
        guard scanner.startsWith(closing) else {
            throw scanner.error("expected `\(closing)` to close the header [\(render(path))], found \(scanner.describeCurrent())")
        }
        scanner.advance(isArray ? 2 : 1)
        let shown = isArray ? "[[\(render(path))]]" : "[\(render(path))]"
        try scanner.expectLineEnd(after: "the header \(shown)")
        let parent = try walkToParent(of: path, headerLocation: start)
        return isArray
            ? try appendArrayTable(path, in: parent, at: start)
            : try defineTable(path, in: parent, at: start)
    }

    /// Follows a header's path to the table that will hold its last segment, creating implicit tables.
    private func walkToParent(of path: [KeySegment], headerLocation: TOMLLocation) throws(TOMLError) -> TableBuilder {
        var current = root
        for (depth, segment) in path.dropLast().enumerated() {
            let shown = render(Array(path[...depth]))
            guard let slot = current[segment.name] else {
                let table = TableBuilder(origin: .implicit, location: segment.location)
                current.set(segment.name, .init(keyLocation: segment.location, valueLocation: segment.location, content: .table(table)))
                current = table
                continue
            }
            switch slot.content {
            case .table(let table):
                current = table
            case .arrayOfTables(let tables):
                current = tables[tables.count - 1]
            case .value(let value):
                throw cannotExtend(shown, value, slot, at: segment.location)
            }
        }
        return current
    }

    private func defineTable(_ path: [KeySegment], in parent: TableBuilder, at start: TOMLLocation) throws(TOMLError) -> TableBuilder {
        let last = path[path.count - 1]
        let shown = render(path)
        guard let slot = parent[last.name] else {
            let table = TableBuilder(origin: .header, location: start)
            parent.set(last.name, .init(keyLocation: last.location, valueLocation: start, content: .table(table)))
            return table
        }
        switch slot.content {
        case .table(let table) where table.origin == .implicit:
            table.origin = .header
            table.location = start
            return table
        case .table(let table):
            throw TOMLError(location: start, message: "table [\(shown)] is already defined at \(table.location)")
        case .arrayOfTables:
            throw TOMLError(location: start, message: "[\(shown)] is already defined as an array of tables at \(slot.valueLocation)")
        case .value(let value):
            throw TOMLError(location: start, message: "key `\(shown)` is already defined as \(article(value.typeName)) at \(slot.keyLocation)")
        }
    }

    private func appendArrayTable(_ path: [KeySegment], in parent: TableBuilder, at start: TOMLLocation) throws(TOMLError) -> TableBuilder {
        let last = path[path.count - 1]
        let shown = render(path)
        let table = TableBuilder(origin: .header, location: start)
        guard var slot = parent[last.name] else {
            parent.set(last.name, .init(keyLocation: last.location, valueLocation: start, content: .arrayOfTables([table])))
            return table
        }
        switch slot.content {
        case .arrayOfTables(let tables):
            slot.content = .arrayOfTables(tables + [table])
            parent.set(last.name, slot)
            return table
        case .table(let existing):
            throw TOMLError(location: start, message: "cannot define [[\(shown)]]: [\(shown)] is already a table, defined at \(existing.location)")
        case .value(.array):
            throw TOMLError(location: start, message: "cannot append to the static array `\(shown)` defined at \(slot.keyLocation)")
        case .value(let value):
            throw TOMLError(location: start, message: "key `\(shown)` is already defined as \(article(value.typeName)) at \(slot.keyLocation)")
        }
    }

    // MARK: Key/value pairs

    /// Parses `key = value` and stores it; returns the key as written, for messages.
    mutating func parseKeyValue(into table: TableBuilder, section: Int) throws(TOMLError) -> String {
        let path = try parseKey()
        guard scanner.current == UInt8(ascii: "=") else {
            throw scanner.error("expected `=` after key `\(render(path))`, found \(scanner.describeCurrent())")
        }
        scanner.advance()
        scanner.skipWhitespace()
        let valueLocation = scanner.location
        let value = try parseValue()
        try insert(value, at: valueLocation, path: path, into: table, section: section)
        return render(path)
    }

    /// Stores a value under a dotted key, creating the intermediate tables it names.
    func insert(_ value: TOMLValue, at valueLocation: TOMLLocation, path: [KeySegment], into table: TableBuilder, section: Int) throws(TOMLError) {
        var current = table
        for (depth, segment) in path.dropLast().enumerated() {
            let shown = render(Array(path[...depth]))
            guard let slot = current[segment.name] else {
                let created = TableBuilder(origin: .dotted(section: section), location: segment.location)
                current.set(segment.name, .init(keyLocation: segment.location, valueLocation: segment.location, content: .table(created)))
                current = created
                continue
            }
            switch slot.content {
            case .table(let existing) where existing.origin == .dotted(section: section):
                current = existing
            case .table(let existing):
                throw TOMLError(location: segment.location, message: "cannot add keys to table [\(shown)] with a dotted key: it is defined at \(existing.location)")
            case .arrayOfTables:
                throw TOMLError(location: segment.location, message: "cannot add keys to the array of tables [[\(shown)]] with a dotted key")
            case .value(let value):
                throw cannotExtend(shown, value, slot, at: segment.location)
            }
        }
        let last = path[path.count - 1]
        if let existing = current[last.name] {
            throw TOMLError(location: last.location, message: "key `\(render(path))` is already defined at \(existing.keyLocation)")
        }
        current.set(last.name, .init(keyLocation: last.location, valueLocation: valueLocation, content: .value(value)))
    }

    private func cannotExtend(_ shown: String, _ value: TOMLValue, _ slot: TableBuilder.Slot, at location: TOMLLocation) -> TOMLError {
        let message = switch value {
        case .table: "cannot extend the inline table `\(shown)` defined at \(slot.keyLocation); inline tables are complete as written"
        case .array: "cannot extend the static array `\(shown)` defined at \(slot.keyLocation)"
        default: "key `\(shown)` is already defined as \(article(value.typeName)) at \(slot.keyLocation), not a table"
        }
        return TOMLError(location: location, message: message)
    }

    // MARK: Keys

    /// Parses a bare, quoted or dotted key and the whitespace after it.
    mutating func parseKey() throws(TOMLError) -> [KeySegment] {
        var path: [KeySegment] = []
        while true {
            let location = scanner.location
            let name: String
            switch scanner.current {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                name = try scanner.parseString(allowMultiline: false)
            case let byte? where isBareKeyByte(byte):
                let start = scanner.position
                while let byte = scanner.current, isBareKeyByte(byte) { scanner.advance() }
                name = String(decoding: scanner.bytes[start..<scanner.position], as: UTF8.self)
            default:
                let what = path.isEmpty ? "a key" : "a key after `\(render(path)).`"
                throw scanner.error("expected \(what), found \(scanner.describeCurrent()); bare keys may contain only A-Z a-z 0-9 _ -")
            }
            path.append(KeySegment(name: name, location: location))
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ".") else { return path }
            scanner.advance()
            scanner.skipWhitespace()
        }
    }
}

func article(_ typeName: String) -> String {
    let vowel = typeName.first.map { "aeiou".contains($0) } ?? false
    return (vowel ? "an " : "a ") + typeName
}
