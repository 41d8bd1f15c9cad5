import Config
import Testing

@Suite("globs match whole names")
struct GlobMatchingTests {
    @Test("wildcards, classes, ranges and negation", arguments: [
        ("*", "anything", true), ("*", "", true), ("get_*", "get_weather", true), ("get_*", "set_weather", false),
        ("*_file", "read_file", true), ("*_file", "read_files", false), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false),
        ("?", "x", true), ("?", "xy", false), ("file[12]", "file2", true), ("file[12]", "file3", false),
        ("[a-c]x", "bx", true), ("[a-c]x", "dx", false), ("[!a]x", "bx", true), ("[!a]x", "ax", false),
        ("[]]", "]", true), ("*.*", "a.b", true), ("résumé*", "résumé_v2", true), ("**a", "bba", true),
    ] as [(String, String, Bool)])
    func matching(pattern: String, name: String, expected: Bool) throws {
        #expect(try GlobPattern(pattern).matches(name) == expected)
    }

    @Test("an unclosed class is a syntax error")
    func unclosed() {
        #expect(throws: GlobPattern.SyntaxError.self) { try GlobPattern("file[12") }
    }

    @Test("a name filter allows what matches allow and not deny")
    func nameFilter() {
        let filter = NameFilter(allow: ["get_*", "list_*"], deny: ["*_secret"])
        #expect(filter.allows("get_weather"))
        #expect(!filter.allows("get_secret"))
        #expect(!filter.allows("delete_all"))
        #expect(NameFilter().allows("anything"))
        #expect(!NameFilter(deny: ["*"]).allows("x"))
    }

    @Test("a bad glob in the config is reported at the element")
    func badGlobInConfig() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("[servers.demo.tools]\ndeny = [\"ok\", \"bad[\"]\n")])
        defer { directory.remove() }
        #expect(directory.errorLines() == ["plugboard.toml:4:15: in `deny`: glob \"bad[\" has a `[` without a closing `]`"])
    }
}
