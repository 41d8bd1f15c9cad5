import Config
import Foundation
import Testing

@Suite("the shipped etc/ configuration loads")
struct DefaultConfigTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("etc/plugboard.toml defines demo behind guard and docs behind curate, aggregated with \"__\"")
    func shippedConfig() throws {
        let config = try ConfigLoader.load(directory: Self.packageRoot + "/etc")
        #expect(config.servers.map(\.name) == ["demo", "docs"])
        #expect(config.exposure == Exposure(mode: .auto, separator: "__"))
        #expect(config.pluginsDirectory == Self.packageRoot + "/plugins.d")
        #expect(config.limits == Limits())
        #expect(config.logging == LoggingSettings())
        #expect(config.servers.allSatisfy { $0.enabled })
        let demo = try #require(config.server(named: "demo"))
        #expect(demo.plugins.request.map(\.plugin) == ["guard"])
        #expect(demo.plugins.response.map(\.plugin) == ["guard"])
        let docs = try #require(config.server(named: "docs"))
        #expect(docs.plugins.request.isEmpty)
        #expect(docs.plugins.response.map(\.plugin) == ["curate"])
        #expect(docs.plugins.response.first?.tools == ["get-library-docs"])
        #expect(demo.transport == .stdio(
            command: "node", arguments: ["../contrib/demo-server/server.mjs"], environment: [:],
            workingDirectory: Self.packageRoot + "/etc"))
    }
}

@Suite("defaults apply when keys are left out")
struct ConfigDefaultsTests {
    @Test("a server with only `command` gets every documented default")
    func serverDefaults() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("[limits]\nrequest_timeout = \"5s\"\n")])
        defer { directory.remove() }
        let config = try directory.load()
        let demo = try #require(config.servers.first)
        #expect(demo.requestTimeout == .seconds(5), "a server's timeout defaults to limits.request_timeout")
        #expect(demo.restartBackoffInitial == .milliseconds(500))
        #expect(demo.restartBackoffMax == .seconds(30))
        #expect(demo.healthCheckInterval == .seconds(30))
        #expect(demo.healthCheckTimeout == .seconds(10))
        #expect(demo.tools.isPassThrough && demo.prompts.isPassThrough && demo.resources.isPassThrough)
        #expect(config.directory.hasPrefix("/"))
        #expect(config.pluginsDirectory == (config.directory as NSString).deletingLastPathComponent + "/plugins.d")
    }

    @Test("relative cwd and commands with a slash resolve against the config directory; bare commands stay")
    func paths() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": """
            [servers.a]
            command = "./bin/server"
            cwd = "work"
            [servers.b]
            command = "python3"
            cwd = "/srv"
            [servers.c]
            url = "http://example.com/mcp"
            transport = "sse"
            """])
        defer { directory.remove() }
        let config = try directory.load()
        let base = config.directory
        #expect(config.servers[0].transport == .stdio(command: base + "/bin/server", arguments: [], environment: [:], workingDirectory: base + "/work"))
        #expect(config.servers[1].transport == .stdio(command: "python3", arguments: [], environment: [:], workingDirectory: "/srv"))
        #expect(config.servers[2].transport == .legacySSE(url: "http://example.com/mcp"))
    }
}
