/// Parses RFC 8259 JSON text exactly: nothing more lenient, nothing stricter.
///
/// Rejected, each with a positioned `JSONError`: leading zeros, `+`, `NaN`, comments,
/// trailing commas, whitespace other than space/tab/CR/LF, invalid UTF-8, raw control
/// characters in strings, lone `\u` surrogates, duplicate member names (compared after
/// unescaping, byte for byte), anything after the value, and nesting beyond `maxDepth`.
public enum JSONParser {
    /// Limits applied while parsing.
    public struct Options: Sendable, Equatable {
        /// The deepest nesting of arrays and objects accepted; the top-level container is depth 1.
        public var maxDepth: Int

        public init(maxDepth: Int = 512) {
            self.maxDepth = maxDepth
        }
    }

    /// Parses one JSON value that must make up the whole buffer (surrounding whitespace aside).
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = .init()) throws(JSONError) -> JSONValue {
        guard !bytes.isEmpty else { throw JSONSyntaxReader.emptyInputError }
        var reader = JSONSyntaxReader(bytes, maxDepth: options.maxDepth)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0, expected: "a JSON value")
        try reader.finishDocument()
        return value
    }

    /// Parses one JSON value from bytes.
    public static func parse(_ bytes: [UInt8], options: Options = .init()) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    /// Parses one JSON value from bytes.
    public static func parse(_ bytes: ArraySlice<UInt8>, options: Options = .init()) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    /// Parses one JSON value from the UTF-8 of a string.
    public static func parse(_ text: String, options: Options = .init()) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(buffer), options: options) }
        }
        return try result.get()
    }
}

extension JSONSyntaxReader {
    /// Parses the value at the position; `depth` is that of the container holding it.
    mutating func parseValue(depth: Int, expected: StaticString) throws(JSONError) -> JSONValue {
        guard position < end else { throw unexpected(expected) }
        switch byte(at: position) {
        case UInt8(ascii: "\""):
            return .string(decodeString(try scanString()))
        case UInt8(ascii: "{"):
            guard let mark = try beginObject(depth: depth + 1) else { return .object(JSONObject()) }
            var members: [JSONObject.Member] = []
            repeat {
                let name = try readMemberName(objectMark: mark, isFirst: members.isEmpty)
                let key = decodeString(name)
                let value = try parseValue(depth: depth + 1, expected: "a value after ':'")
                members.append(JSONObject.Member(key: key, value: value))
            } while try endOfMember()
            try finishObject(objectMark: mark)
            return .object(JSONObject(uniqueMembers: members))
        case UInt8(ascii: "["):
            guard try beginArray(depth: depth + 1) else { return .array([]) }
            var elements: [JSONValue] = []
            var expected: StaticString = "a value or ']'"
            repeat {
                elements.append(try parseValue(depth: depth + 1, expected: expected))
                expected = "a value after ','"
            } while try endOfElement()
            return .array(elements)
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let token = try scanNumber()
            return .number(JSONNumber(token: token, in: self))
        default:
            throw unexpected(expected)
        }
    }
}
