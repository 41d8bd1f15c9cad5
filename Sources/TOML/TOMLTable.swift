/// A TOML table: keys in the order they were first written, each with its value and locations.
public struct TOMLTable: Sendable, Equatable, RandomAccessCollection {
    public struct Entry: Sendable {
        public var key: String
        public var value: TOMLValue
        /// Where the key was written (for a dotted key, the segment naming this entry).
        public var keyLocation: TOMLLocation
        /// Where the value starts; for a table or array of tables, its first header.
        public var valueLocation: TOMLLocation

        public init(key: String, value: TOMLValue, keyLocation: TOMLLocation, valueLocation: TOMLLocation) {
            self.key = key
            self.value = value
            self.keyLocation = keyLocation
            self.valueLocation = valueLocation
        }
    }

    /// Where the table was defined: its `[header]`, the first dotted key naming it, or its `{`.
    public var location: TOMLLocation
    public private(set) var entries: [Entry]
    private var indexByKey: [String: Int]

    public init(location: TOMLLocation, entries: [Entry] = []) {
        self.location = location
        self.entries = []
        self.indexByKey = [:]
        for entry in entries { set(entry) }
    }

    public var keys: [String] { entries.map(\.key) }

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> Entry { entries[position] }

    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    public func entry(_ key: String) -> Entry? {
        indexByKey[key].map { entries[$0] }
    }

    /// Adds an entry, or replaces the one with the same key in place.
    public mutating func set(_ entry: Entry) {
        if let index = indexByKey[entry.key] {
            entries[index] = entry
        } else {
            indexByKey[entry.key] = entries.count
            entries.append(entry)
        }
    }

    /// Tables are equal when they hold the same keys with equal values, in any order; locations do not take part.
    public static func == (a: TOMLTable, b: TOMLTable) -> Bool {
        guard a.entries.count == b.entries.count else { return false }
        return a.entries.allSatisfy { entry in b[entry.key] == entry.value }
    }
}
