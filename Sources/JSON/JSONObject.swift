#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The members of a JSON object, in insertion order, with unique names.
///
/// Names are compared by their exact Unicode scalars (as RFC 8259 and JSON parsers in
/// other languages do), not by Swift's canonical-equivalence `String` equality, so
/// `"é"` and `"e\u{301}"` are two different members. Small objects are searched
/// linearly; objects with more than 16 members keep a hash index.
///
/// Two objects are equal when they have the same members, in any order.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    struct Member: Sendable {
        var key: String
        var value: JSONValue
    }

    /// Hashes and compares a name by its UTF-8 bytes.
    struct Name: Hashable, Sendable {
        var string: String

        static func == (a: Name, b: Name) -> Bool { JSONObject.sameName(a.string, b.string) }

        func hash(into hasher: inout Hasher) {
            let hashed: Void? = string.utf8.withContiguousStorageIfAvailable {
                hasher.combine(bytes: UnsafeRawBufferPointer($0))
            }
            if hashed == nil {
                for byte in string.utf8 { hasher.combine(byte) }
            }
        }
    }

    private static let indexThreshold = 16

    private(set) var members: [Member]
    private var index: [Name: Int]?

    /// An empty object.
    public init() {
        members = []
        index = nil
    }

    /// Members whose names the caller has already checked to be unique.
    init(uniqueMembers: [Member]) {
        members = uniqueMembers
        index = nil
        rebuildIndex()
    }

    /// Builds an object from name-value pairs; the names must be unique.
    public init<S: Sequence>(uniqueKeysWithValues pairs: S) where S.Element == (String, JSONValue) {
        self.init()
        for (key, value) in pairs {
            precondition(self[key] == nil, "duplicate member name \"\(key)\"")
            self[key] = value
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueKeysWithValues: elements)
    }

    /// The number of members.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The member names in order.
    public var keys: [String] { members.map(\.key) }

    /// The member values in order.
    public var values: [JSONValue] { members.map(\.value) }

    /// The value of the member named `key`; setting nil removes the member, setting a
    /// new name appends it, setting an existing name replaces its value in place.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return members[i].value
        }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            if let i = position(of: key) {
                members[i].value = newValue
            } else {
                members.append(Member(key: key, value: newValue))
                if index != nil {
                    index![Name(string: key)] = members.count - 1
                } else if members.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    /// Removes the member named `key`, returning its value if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        let removed = members.remove(at: i)
        rebuildIndex()
        return removed.value
    }

    public func makeIterator() -> Iterator {
        Iterator(base: members.makeIterator())
    }

    /// Iterates the members in order.
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Member]>

        public mutating func next() -> Element? {
            guard let member = base.next() else { return nil }
            return (member.key, member.value)
        }
    }

    public var underestimatedCount: Int { members.count }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for member in a.members {
            guard let other = b[member.key], other == member.value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent, to agree with ==.
        var combined = 0
        for member in members {
            var memberHasher = Hasher()
            memberHasher.combine(Name(string: member.key))
            memberHasher.combine(member.value)
            combined &+= memberHasher.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }

    private func position(of key: String) -> Int? {
        if let index {
            return index[Name(string: key)]
        }
        return members.firstIndex { Self.sameName($0.key, key) }
    }

    private mutating func rebuildIndex() {
        guard members.count > Self.indexThreshold else {
            index = nil
            return
        }
        var index = [Name: Int](minimumCapacity: members.count)
        for (i, member) in members.enumerated() {
            index[Name(string: member.key)] = i
        }
        self.index = index
    }

    /// Byte-for-byte equality of the UTF-8 (not String's canonical equivalence), as JSON names compare.
    static func sameName(_ a: String, _ b: String) -> Bool {
        let a = a.utf8
        let b = b.utf8
        guard a.count == b.count else { return false }
        let compared = a.withContiguousStorageIfAvailable { a in
            b.withContiguousStorageIfAvailable { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
        return compared.flatMap { $0 } ?? a.elementsEqual(b)
    }
}
