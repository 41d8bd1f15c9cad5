import Config
import Testing

@Suite("conf.d fragments merge in lexical order")
struct ConfigFragmentTests {
    @Test("fragments add servers in file order and add keys to existing tables")
    func mergeOrder() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": minimalConfig("[limits]\nrequest_timeout = \"5s\"\n"),
            "conf.d/20-second.toml": "[servers.second]\ncommand = \"b\"\n",
            "conf.d/10-first.toml": "[servers.first]\ncommand = \"a\"\n[limits]\nmax_in_flight = 7\n",
            "conf.d/README.md": "not toml",
        ])
        defer { directory.remove() }
        let config = try directory.load()
        #expect(config.servers.map(\.name) == ["demo", "first", "second"])
        #expect(config.limits.maxInFlightPerUpstream == 7)
        #expect(config.limits.requestTimeout == .seconds(5))
    }

    @Test("a fragment setting a key already set is an error naming both places")
    func redefinedKey() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": minimalConfig("[limits]\nrequest_timeout = \"5s\"\n"),
            "conf.d/10.toml": "[limits]\nrequest_timeout = \"9s\"\n",
        ])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("conf.d/10.toml:2:1: `limits.request_timeout` is already set at ") == true)
        #expect(lines.first?.hasSuffix("plugboard.toml:4:1") == true)
    }

    @Test("a server defined in two files is an error")
    func duplicateServer() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": minimalConfig(),
            "conf.d/a.toml": "[servers.demo]\nargs = [\"x\"]\n",
        ])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("conf.d/a.toml:1:10: server \"demo\" is already defined at ") == true)
    }

    @Test("syntax errors in several files are all reported")
    func errorsInSeveralFiles() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": minimalConfig("x = \n"),
            "conf.d/a.toml": "[servers\n",
        ])
        defer { directory.remove() }
        #expect(directory.errorLines().count == 2)
    }
}
