import JSON
import Testing

struct MalformedCase: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let byteOffset: Int
    let line: Int
    let column: Int
    let message: String

    init(_ text: String, _ byteOffset: Int, line: Int = 1, column: Int? = nil, _ message: String) {
        self.init(bytes: Array(text.utf8), byteOffset, line: line, column: column, message)
    }

    init(bytes: [UInt8], _ byteOffset: Int, line: Int = 1, column: Int? = nil, _ message: String) {
        input = bytes
        self.byteOffset = byteOffset
        self.line = line
        self.column = column ?? byteOffset + 1
        self.message = message
    }

    var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
}

let malformedCases: [MalformedCase] = [
    MalformedCase("", 0, "expected a JSON value, found end of input"),
    MalformedCase("   ", 3, "expected a JSON value, found end of input"),
    MalformedCase("{", 1, "expected a member name or '}'"),
    MalformedCase(#"{"a":1,}"#, 7, "expected a member name after ',', found '}'"),
    MalformedCase(#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after object member"),
    MalformedCase(#"{"a" 1}"#, 5, "expected ':' after member name, found '1'"),
    MalformedCase(#"{a:1}"#, 1, "expected a member name or '}', found 'a'"),
    MalformedCase(#"{"a":}"#, 5, "expected a value after ':', found '}'"),
    MalformedCase("[1,]", 3, "expected a value after ',', found ']'"),
    MalformedCase("[1 2]", 3, "expected ',' or ']' after array element, found '2'"),
    MalformedCase("[1", 2, "expected ',' or ']' after array element, found end of input"),
    MalformedCase("[1]]", 3, "unexpected data after the JSON value"),
    MalformedCase("01", 1, "leading zeros are not allowed"),
    MalformedCase("-01", 2, "leading zeros are not allowed"),
    MalformedCase("-", 1, "expected a digit after '-', found end of input"),
    MalformedCase("-a", 1, "expected a digit after '-', found 'a'"),
    MalformedCase("+1", 0, "expected a JSON value, found '+'"),
    MalformedCase("1.", 2, "expected a digit after '.', found end of input"),
    MalformedCase("1.e3", 2, "expected a digit after '.', found 'e'"),
    MalformedCase("1e", 2, "expected a digit in the exponent"),
    MalformedCase("1e+", 3, "expected a digit in the exponent"),
    MalformedCase(".5", 0, "expected a JSON value, found '.'"),
    MalformedCase("NaN", 0, "expected a JSON value, found 'N'"),
    MalformedCase("Infinity", 0, "expected a JSON value, found 'I'"),
    MalformedCase("nul", 3, "expected 'null', found end of input"),
    MalformedCase("nulx", 3, "expected 'null', found 'x'"),
    MalformedCase("True", 0, "expected a JSON value, found 'T'"),
    MalformedCase("\"abc", 4, "expected '\"' to close the string"),
    MalformedCase("\"a\u{01}\"", 2, "unescaped control character U+0001"),
    MalformedCase("\"a\tb\"", 2, "unescaped control character U+0009"),
    MalformedCase(#""\q""#, 1, #"invalid escape sequence '\q'"#),
    MalformedCase(#""\u12G4""#, 5, "expected a hex digit in '\\u' escape, found 'G'"),
    MalformedCase(#""\uD800""#, 1, #"lone UTF-16 surrogate \uD800"#),
    MalformedCase(#""\uDC00""#, 1, #"lone UTF-16 surrogate \uDC00"#),
    MalformedCase(#""\uD800\u0041""#, 1, #"lone UTF-16 surrogate \uD800"#),
    MalformedCase(#""\uD800x""#, 1, #"lone UTF-16 surrogate \uD800"#),
    MalformedCase(bytes: [0x22, 0xFF, 0x22], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0x22, 0xC0, 0x80, 0x22], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0x22, 0xE2, 0x82, 0x22], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0x22, 0xE2, 0x82], 1, "invalid UTF-8"),
    MalformedCase(bytes: [0xEF, 0xBB, 0xBF, 0x31], 0, "expected a JSON value, found byte 0xEF"),
    MalformedCase(#"{"a":1,"a":2}"#, 7, #"duplicate member name "a" in object"#),
    MalformedCase(#"{"a":1,"\u0061":2}"#, 7, #"duplicate member name "a" in object"#),
    MalformedCase(#"{"x":{"b":1,"b":2}}"#, 12, #"duplicate member name "b""#),
    MalformedCase(#"{"a":1}x"#, 7, "unexpected data after the JSON value"),
    MalformedCase("1 2", 2, "unexpected data after the JSON value"),
    MalformedCase("// c\n1", 0, "expected a JSON value, found '/'"),
    MalformedCase("[1,\n 2,\n x]", 9, line: 3, column: 2, "expected a value after ',', found 'x'"),
    MalformedCase("\u{A0}1", 0, "found byte 0xC2"),
    MalformedCase("\u{0C}1", 0, "found byte 0x0C"),
    MalformedCase("\"é\n\"", 3, column: 3, "unescaped control character U+000A"),
]

@Suite("JSONParser")
struct JSONParserTests {
    @Test("malformed input fails with the position and reason of the first error", arguments: malformedCases)
    func malformed(_ testCase: MalformedCase) {
        #expect(throws: JSONError.self) { try JSONParser.parse(testCase.input) }
        do {
            _ = try JSONParser.parse(testCase.input)
        } catch {
            #expect(error.byteOffset == testCase.byteOffset)
            #expect(error.line == testCase.line)
            #expect(error.column == testCase.column)
            #expect(error.description.contains(testCase.message), "\(error)")
            #expect(error.description.hasPrefix("line \(testCase.line), column \(testCase.column): "))
        }
    }

    @Test("the error description reads as line, column, then what was expected")
    func errorDescription() {
        #expect(throws: JSONError(
            kind: .unexpectedByte(UInt8(ascii: "]"), expected: "',' or '}' after object member"),
            byteOffset: 16, line: 1, column: 17)
        ) {
            try JSONParser.parse(#"{"abc": [1, 2]  ]"#)
        }
        let error = JSONError(
            kind: .unexpectedByte(UInt8(ascii: "]"), expected: "',' or '}' after object member"),
            byteOffset: 16, line: 1, column: 17)
        #expect(error.description == "line 1, column 17: expected ',' or '}' after object member, found ']'")
    }

    @Test("valid documents of every kind parse to the values they spell")
    func validDocuments() throws {
        let value = try JSONParser.parse(
            " \t\r\n{\"a\" : [1, -2.5e3, true, false, null, \"x\\u00e9\\/\"] , \"b\":{}, \"c\":[]}\n ")
        #expect(value == ["a": [1, .number(JSONNumber(text: "-2.5e3")!), true, false, nil, "xé/"], "b": [:], "c": []])
        #expect(try JSONParser.parse("0") == 0)
        #expect(try JSONParser.parse("-0").numberValue?.text == "-0")
        #expect(try JSONParser.parse(#""""#) == "")
        #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONParser.parse(Array("[1,2]".utf8)[...]) == [1, 2])
    }

    @Test("surrogate pair escapes combine into one scalar")
    func surrogatePairs() throws {
        #expect(try JSONParser.parse(#""\uD83D\uDE00""#) == "😀")
        #expect(try JSONParser.parse(#""a\ud834\udd1eb""#) == "a𝄞b")
        #expect(try JSONParser.parse(#""\u00e9\u4e2d""#) == "é中")
    }

    @Test("raw non-ASCII UTF-8 passes through strings unchanged")
    func rawUnicode() throws {
        let text = "é中😀\u{10FFFF}"
        #expect(try JSONParser.parse("\"\(text)\"") == .string(text))
    }

    @Test("nesting up to maxDepth parses and one level deeper fails at the offending bracket")
    func depthLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        _ = try JSONParser.parse(ok)
        let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONError(kind: .depthLimitExceeded(limit: 512), byteOffset: 512, line: 1, column: 513)) {
            try JSONParser.parse(tooDeep)
        }
        let objects = String(repeating: #"{"a":"#, count: 4) + "1" + String(repeating: "}", count: 4)
        _ = try JSONParser.parse(objects, options: .init(maxDepth: 4))
        #expect(throws: JSONError.self) { try JSONParser.parse(objects, options: .init(maxDepth: 3)) }
        let hostile = String(repeating: "[", count: 200_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(hostile) }
    }

    @Test("a duplicate member name in a large object is reported at its second occurrence")
    func duplicateInLargeObject() throws {
        var members = (0..<40).map { "\"k\($0)\":\($0)" }
        members.append(#""k3":0"#)
        members.append(#""k1":0"#)
        let text = "{" + members.joined(separator: ",") + "}"
        let offset = Array(text.utf8).count - #""k3":0,"k1":0}"#.utf8.count
        #expect(throws: JSONError(kind: .duplicateKey("k3"), byteOffset: offset, line: 1, column: offset + 1)) {
            try JSONParser.parse(text)
        }
        let unique = "{" + (0..<100).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        #expect(try JSONParser.parse(unique).objectValue?.count == 100)
    }

    @Test("member names that differ only in Unicode normalization are distinct, not duplicates")
    func namesCompareByScalars() throws {
        let value = try JSONParser.parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        #expect(value.objectValue?.count == 2)
        #expect(value["\u{E9}"] == 1)
        #expect(value["e\u{301}"] == 2)
    }
}
