import TOML
import Testing

@Suite("strings decode every form and escape")
struct TOMLStringTests {
    @Test("basic strings decode all escapes including \\u and \\U")
    func basicEscapes() throws {
        let table = try parse(#"s = "a\tb\n\"q\" \\ \b\f\r \u00E9 \U0001F600""#)
        #expect(table["s"] == .string("a\tb\n\"q\" \\ \u{8}\u{C}\r é 😀"))
    }

    @Test("literal strings keep backslashes as written")
    func literal() throws {
        #expect(try parse(#"p = 'C:\Users\nodejs'"#)["p"] == .string(#"C:\Users\nodejs"#))
    }

    @Test("multi-line basic strings trim the first newline and honour line-ending backslashes")
    func multilineBasic() throws {
        let table = try parse("s = \"\"\"\none \\\n    two\r\nthree\"\"\"\"\"")
        #expect(table["s"] == .string("one two\nthree\"\""))
    }

    @Test("multi-line literal strings keep everything but the first newline")
    func multilineLiteral() throws {
        #expect(try parse("s = '''\nraw \\n ''text'''''")["s"] == .string("raw \\n ''text''"))
    }

    @Test("an unknown escape is reported at its backslash")
    func invalidEscape() {
        let error = rejection(#"name = "a\qb""#)
        #expect(error?.message.contains(#"invalid escape `\q` in basic string"#) == true)
        #expect(error?.location.column == 10)
    }

    @Test("surrogate code points in \\u escapes are rejected")
    func surrogate() {
        #expect(rejection(#"s = "\uD800""#)?.message.contains("not a Unicode scalar") == true)
    }

    @Test("control characters must be escaped")
    func controlCharacter() {
        #expect(rejection("s = \"a\u{1}b\"")?.message.contains("control character") == true)
    }

    @Test("a newline inside a single-line string is an unterminated string")
    func unterminated() {
        let error = rejection("s = \"abc\nt = 1")
        #expect(error?.message.contains("unterminated basic string") == true)
        #expect(error?.location == TOMLLocation(file: "test.toml", line: 1, column: 5))
    }
}
