import Config
import Testing

@Suite("plugin chain entries name existing plugin files")
struct PluginChainConfigTests {
    @Test("entries load with defaults and their config as JSON text")
    func loads() throws {
        let directory = try TemporaryConfigDirectory([
            "etc/plugboard.toml": minimalConfig("""
                [[servers.demo.plugins.request]]
                plugin = "audit"
                [[servers.demo.plugins.response]]
                plugin = "redact"
                tools = ["search_*"]
                methods = ["tools/call", "resources/read"]
                config = { words = ["a\\"b", "é\\n"], n = 1.5, on = true, when = 1979-05-27, nested = { x = 1 } }
                """),
            "plugins.d/audit.js": "",
            "plugins.d/redact.mjs": "",
        ])
        defer { directory.remove() }
        let config = try ConfigLoader.load(directory: directory.path + "/etc")
        let plugins = try #require(config.servers.first?.plugins)
        #expect(plugins.request.map(\.plugin) == ["audit"])
        #expect(plugins.request.first?.methods == ["tools/call"])
        #expect(plugins.request.first?.configJSON == "{}")
        let redact = try #require(plugins.response.first)
        #expect(redact.tools == ["search_*"])
        #expect(redact.methods == ["tools/call", "resources/read"])
        #expect(redact.configJSON == #"{"words":["a\"b","é\n"],"n":1.5,"on":true,"when":"1979-05-27","nested":{"x":1}}"#)
        #expect(redact.location.hasSuffix("plugboard.toml:5:1"))
    }

    @Test("a plugin with no file, an unknown method or no name is reported")
    func errors() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("""
            [[servers.demo.plugins.request]]
            plugin = "missing"
            methods = ["tools/delete"]
            [[servers.demo.plugins.request]]
            tools = ["x"]
            """)])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first?.hasPrefix("plugboard.toml:4:10: plugin \"missing\" not found: expected /") == true)
        #expect(lines.first?.hasSuffix("/plugins.d/missing.js or /") == false)
        #expect(lines.dropFirst().first?.hasPrefix("plugboard.toml:5:12: `methods` may contain only") == true)
        #expect(lines.last?.hasPrefix("plugboard.toml:6:1: [[servers.demo.plugins.request]] needs `plugin`") == true)
    }

    @Test("isolation is \"chain\" unless said otherwise; anything but chain or plugin is reported where it stands")
    func isolation() throws {
        let fused = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig()])
        defer { fused.remove() }
        #expect(try ConfigLoader.load(directory: fused.path).plugins.isolation == .chain)
        let isolated = try TemporaryConfigDirectory(["plugboard.toml": "[plugins]\nisolation = \"plugin\"\n" + minimalConfig()])
        defer { isolated.remove() }
        #expect(try ConfigLoader.load(directory: isolated.path).plugins.isolation == .plugin)
        let wrong = try TemporaryConfigDirectory(["plugboard.toml": "[plugins]\nisolation = \"process\"\n" + minimalConfig()])
        defer { wrong.remove() }
        #expect(wrong.errorLines() == [#"plugboard.toml:2:13: `isolation` must be one of "chain", "plugin", found "process""#])
    }
}
