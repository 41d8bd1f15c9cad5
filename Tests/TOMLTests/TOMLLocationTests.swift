import TOML
import Testing

@Suite("keys, values and array elements report where they were written")
struct TOMLLocationTests {
    @Test("entries carry key and value locations, array items their own")
    func entryLocations() throws {
        let table = try parse("# comment\n[servers.demo]\n  args = [\"a\",\n    42]")
        let demo = try #require(table["servers"]?.tableValue?["demo"]?.tableValue)
        #expect(demo.location.description == "test.toml:2:1")
        let args = try #require(demo.entry("args"))
        #expect(args.keyLocation.description == "test.toml:3:3")
        #expect(args.valueLocation.description == "test.toml:3:10")
        #expect(args.value.arrayValue?.location(at: 1).description == "test.toml:4:5")
    }

    @Test("columns count characters, not bytes")
    func unicodeColumns() {
        #expect(rejection("k = \"é\" x")?.location.column == 9)
    }

    @Test("type names read well in messages")
    func typeNames() {
        #expect(TOMLValue.integer(1).typeName == "integer")
        #expect(TOMLValue.table(TOMLTable(location: .init(file: "f", line: 1, column: 1))).typeName == "table")
        #expect(TOMLValue.localDate(.init(year: 1, month: 1, day: 1)).typeName == "local date")
    }
}

@Suite("the raw text is checked before parsing")
struct TOMLEncodingTests {
    @Test("invalid UTF-8 is rejected at the bad byte")
    func invalidUTF8() {
        let error = rejection(bytes: Array("a = 1\nb = \"".utf8) + [0xC3, 0x28] + Array("\"".utf8))
        #expect(error?.location.description == "test.toml:2:6")
        #expect(error?.message.contains("invalid UTF-8") == true)
    }

    @Test("overlong encodings and surrogates are invalid UTF-8")
    func overlong() {
        #expect(rejection(bytes: Array("a = \"".utf8) + [0xC0, 0xAF] + [0x22]) != nil)
        #expect(rejection(bytes: Array("a = \"".utf8) + [0xED, 0xA0, 0x80] + [0x22]) != nil)
    }

    @Test("a byte order mark is skipped and CRLF ends lines")
    func bomAndCRLF() throws {
        let table = try TOMLParser.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("a = 1\r\n[t]\r\nb = 2\r\n".utf8), file: "x")
        #expect(table["t"]?.tableValue?["b"] == .integer(2))
        #expect(table["t"]?.tableValue?.entry("b")?.keyLocation.line == 3)
    }

    @Test("a lone carriage return and control characters in comments are rejected")
    func strayControl() {
        #expect(rejection("a = 1\rb = 2") != nil)
        #expect(rejection("# bell \u{7}\na = 1") != nil)
    }
}
