/// Header fields in the order they were received or added, names in their original case;
/// lookups ignore ASCII case.
public struct HTTPHeaders: Sequence, Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// Whether `byte` may appear in a header name (RFC 9110 `tchar`).
    public static func isTokenCharacter(_ byte: UInt8) -> Bool { ASCII.isTokenCharacter(byte) }

    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    public init(_ pairs: [(String, String)] = []) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    init(fields: [Element]) {
        self.fields = fields
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    /// The first value of the field `name`.
    public subscript(_ name: String) -> String? {
        fields.first { Self.namesMatch($0.name, name) }?.value
    }

    /// Every value of the field `name`, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.namesMatch($0.name, name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { Self.namesMatch($0.name, name) }
    }

    /// Adds a field after the others, keeping any of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field named `name` with one, where the first of them was (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        guard let first = fields.firstIndex(where: { Self.namesMatch($0.name, name) }) else {
            return add(name, value)
        }
        fields[first] = (name: name, value: value)
        var index = first + 1
        while index < fields.count {
            if Self.namesMatch(fields[index].name, name) { fields.remove(at: index) } else { index += 1 }
        }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.namesMatch($0.name, name) }
    }

    /// The elements of a comma-separated list field (`Connection`, `Accept`, …) over all its
    /// values: trimmed, lowercased, parameters after `;` dropped, empty elements skipped.
    /// Quoted strings are not interpreted.
    public func tokens(for name: String) -> [String] {
        var tokens: [String] = []
        for field in fields where Self.namesMatch(field.name, name) {
            var value = field.value
            value.withUTF8 { bytes in
                ASCII.forEachListElement(bytes, 0..<bytes.count) { element in
                    let token = Self.withoutParameters(bytes, element)
                    if !token.isEmpty { tokens.append(String(decoding: bytes[token].map(ASCII.lowercased), as: UTF8.self)) }
                }
            }
        }
        return tokens
    }

    /// Whether a list field holds `token` (given in lowercase), without building the list.
    func containsToken(_ token: StaticString, in name: String) -> Bool {
        for field in fields where Self.namesMatch(field.name, name) {
            var value = field.value
            let found = value.withUTF8 { bytes in
                var found = false
                ASCII.forEachListElement(bytes, 0..<bytes.count) { element in
                    if ASCII.equalsIgnoringCase(bytes, Self.withoutParameters(bytes, element), token) { found = true }
                }
                return found
            }
            if found { return true }
        }
        return false
    }

    /// A list element up to its first `;`, trimmed.
    private static func withoutParameters(_ bytes: UnsafeBufferPointer<UInt8>, _ element: Range<Int>) -> Range<Int> {
        let end = bytes[element].firstIndex(of: ASCII.semicolon) ?? element.upperBound
        return ASCII.trimmingWhitespace(bytes, element.lowerBound..<end)
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Field names compare by ASCII case only; names are tokens, so no Unicode case folding.
    static func namesMatch(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        return left.elementsEqual(right) { ASCII.lowercased($0) == ASCII.lowercased($1) }
    }

    /// `name: value\r\n` for each field. CR, LF and NUL become spaces: a value set from
    /// untrusted text can never end the line early and smuggle in a field of its own.
    func serialize(into bytes: inout [UInt8]) {
        for field in fields {
            Self.appendSanitized(field.name, to: &bytes)
            bytes.append(ASCII.colon)
            bytes.append(ASCII.space)
            Self.appendSanitized(field.value, to: &bytes)
            bytes.append(ASCII.carriageReturn)
            bytes.append(ASCII.lineFeed)
        }
    }

    /// An estimate of the serialized size, for reserving capacity.
    var serializedSizeEstimate: Int {
        fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    static func appendSanitized(_ text: String, to bytes: inout [UInt8]) {
        for byte in text.utf8 {
            bytes.append(byte == ASCII.carriageReturn || byte == ASCII.lineFeed || byte == ASCII.nul ? ASCII.space : byte)
        }
    }
}
