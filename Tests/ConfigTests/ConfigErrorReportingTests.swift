import Config
import Testing

@Suite("configuration errors point at file:line:col")
struct ConfigErrorReportingTests {
    @Test("an unknown key is reported with a did-you-mean suggestion, and the missing command too")
    func unknownKey() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": "[servers.demo]\n  comand = \"node\"\n"])
        defer { directory.remove() }
        #expect(directory.errorLines() == [
            "plugboard.toml:1:1: [servers.demo] needs `command` (to start a process) or `url` (to connect over HTTP)",
            "plugboard.toml:2:3: unknown key \"comand\" in [servers.demo] (did you mean \"command\"?)",
        ])
    }

    @Test("a value of the wrong type names the key, the expected and the found type")
    func wrongTypes() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("args = 5\nenabled = \"yes\"\nenv = { A = 1 }\n")])
        defer { directory.remove() }
        #expect(directory.errorLines() == [
            "plugboard.toml:3:8: `args` must be an array of strings, found integer",
            "plugboard.toml:4:11: `enabled` must be true or false, found string",
            "plugboard.toml:5:13: `env.A` must be a string, found integer",
        ])
    }

    @Test("a wrong array element is reported at the element")
    func arrayElement() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("args = [\"a\", 2]\n")])
        defer { directory.remove() }
        #expect(directory.errorLines() == ["plugboard.toml:3:14: `args` must be an array of strings, found integer at element 2"])
    }

    @Test("all errors across all tables are listed, not just the first")
    func allErrors() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": """
            colour = 1
            [log]
            level = "verbose"
            [limits]
            max_message_bytes = 10
            request_timeout = "-1s"
            [expose]
            separator = "::"
            [servers.demo]
            command = "node"
            url = "http://x"
            [servers."bad name"]
            url = "ftp://x"
            """])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.count == 8, "\(lines)")
        #expect(lines.first == "plugboard.toml:1:1: unknown key \"colour\" in the top level")
        #expect(lines.contains("plugboard.toml:3:9: `level` must be one of \"trace\", \"debug\", \"info\", \"notice\", \"warning\", \"error\", found \"verbose\""))
        #expect(lines.contains("plugboard.toml:5:21: `max_message_bytes` must be at least 1024, found 10"))
        #expect(lines.contains { $0.hasPrefix("plugboard.toml:6:19: `request_timeout` must be a non-negative duration") })
        #expect(lines.contains { $0.hasPrefix("plugboard.toml:8:13: `separator` must be") })
        #expect(lines.contains("plugboard.toml:11:1: [servers.demo] sets both `command` and `url`; keep exactly one"))
        #expect(lines.contains("plugboard.toml:12:10: server name \"bad name\" may contain only A-Z a-z 0-9 _ -"))
        #expect(lines.last == "plugboard.toml:13:7: `url` must be an http:// or https:// URL, found \"ftp://x\"")
    }

    @Test("a TOML syntax error is reported with its location")
    func syntaxError() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": "[servers.demo]\ncommand \"node\"\n"])
        defer { directory.remove() }
        #expect(directory.errorLines() == ["plugboard.toml:2:9: expected `=` after key `command`, found `\"`"])
    }

    @Test("a missing plugboard.toml is reported by path")
    func missingFile() throws {
        let directory = try TemporaryConfigDirectory([:])
        defer { directory.remove() }
        #expect(directory.errorLines().first?.contains("cannot read") == true)
    }

    @Test("at least one server must be enabled, and transparent mode needs exactly one")
    func serverCounts() throws {
        let none = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("enabled = false\n")])
        defer { none.remove() }
        #expect(none.errorLines().first?.contains("no enabled server") == true)

        let two = try TemporaryConfigDirectory(["plugboard.toml": "[expose]\nmode = \"transparent\"\n" + minimalConfig() + "[servers.docs]\ncommand = \"node\"\n"])
        defer { two.remove() }
        #expect(two.errorLines() == [
            "plugboard.toml:2:8: `mode = \"transparent\"` needs exactly one enabled server, found 2 (demo, docs); use \"aggregate\" or disable the others"
        ])
    }
}
