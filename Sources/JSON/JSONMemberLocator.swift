/// Finds one member of an object without building the object: for the hot path, where a
/// proxy needs a single field (`_meta`, a token) of a message it otherwise forwards as bytes.
public enum JSONMemberLocator {
    /// The range, in `bytes`' own indices, of the value of the top-level member `name` of the
    /// object that `bytes` holds; nil when there is no such member or `bytes` is not a valid object.
    public static func valueRange(of name: StaticString, inObject bytes: ArraySlice<UInt8>, options: JSONParser.Options = .init()) -> Range<Int>? {
        guard !bytes.isEmpty else { return nil }
        let found: Range<Int>? = bytes.withUnsafeBytes { buffer in
            var reader = JSONSyntaxReader(buffer, maxDepth: options.maxDepth)
            return try? reader.locateMember(name)
        }
        return found.map { ($0.lowerBound + bytes.startIndex)..<($0.upperBound + bytes.startIndex) }
    }

    /// The value of the top-level member `name` of the object `bytes` holds, parsed alone.
    public static func value(of name: StaticString, inObject bytes: ArraySlice<UInt8>, options: JSONParser.Options = .init()) -> JSONValue? {
        guard let range = valueRange(of: name, inObject: bytes, options: options) else { return nil }
        return try? JSONParser.parse(bytes[range], options: options)
    }
}

extension JSONSyntaxReader {
    /// Walks the members of the object at the current position, validating the ones it passes,
    /// and returns the range of `name`'s value; nil when the object has no such member.
    fileprivate mutating func locateMember(_ name: StaticString) throws(JSONError) -> Range<Int>? {
        skipWhitespace()
        guard position < end, byte(at: position) == UInt8(ascii: "{") else { throw unexpected("an object") }
        guard let mark = try beginObject(depth: 1) else { return nil }
        var isFirst = true
        repeat {
            let member = try readMemberName(objectMark: mark, isFirst: isFirst)
            isFirst = false
            let start = position
            try skipValue(depth: 1, expected: "a value after ':'")
            if string(member, equals: name) { return start..<position }
        } while try endOfMember()
        return nil
    }
}
