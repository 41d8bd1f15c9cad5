import Foundation
import JSON
import Testing

/// Chains of several entries, run both ways: `isolation = "chain"` runs consecutive entries in one
/// worker in one round trip, `isolation = "plugin"` one round trip per entry in each plugin's own
/// workers. A client must not be able to tell them apart, except by speed.
@Suite("fused plugin chains", .serialized)
struct FusedChainTests {
    static let isolations = ["chain", "plugin"]

    static func plugboard(_ isolation: String, chains: String, plugins: String = "min_workers = 1\nmax_workers = 2") throws -> PlugboardUnderTest {
        try PluginChainTests.plugboard(chains: chains, plugins: "isolation = \"\(isolation)\"\n\(plugins)")
    }

    static func entry(_ phase: String, _ plugin: String, _ extra: String = "") -> String {
        "[[servers.demo.plugins.\(phase)]]\nplugin = \"\(plugin)\"\n\(extra)\n"
    }

    @Test("request and response entries of several plugins run in order; each plugin's metadata is kept", arguments: isolations)
    func order(isolation: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("request", "gate"), Self.entry("request", "stamp", "config = { suffix = \"+a\" }"),
                Self.entry("request", "stamp", "config = { suffix = \"+b\" }"),
                Self.entry("response", "stamp", "config = { suffix = \"-1\" }"), Self.entry("response", "shout"),
                Self.entry("response", "append", "config = { suffix = \"-2\" }"),
            ].joined())
        try plugboard.initialize()
        let result = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "hi"]])
        #expect(result.firstText == "[CHECKED] HI+A+B-1-2")
        let meta = result["result"]?["_meta"]?["dev.plugboard/plugins"]
        #expect(meta?["stamp"]?["suffix"] == "-1")
        #expect(meta?["shout"]?["by"] == "shout")
        let workers = isolation == "chain" ? 1 : 4
        #expect(plugboard.eventually { plugboard.descendants(runningCommandContaining: "plugin-host").count == workers })
    }

    @Test("continue = false ends the chain; a block in the middle answers with the blocking plugin's reason", arguments: isolations)
    func stopAndBlock(isolation: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("request", "stamp", "config = { suffix = \"!\" }"), Self.entry("request", "gate", "config = { deny = [\"crash\"] }"),
                Self.entry("request", "stamp", "config = { suffix = \"?\" }"),
                Self.entry("response", "append", "config = { suffix = \"-1\" }"), Self.entry("response", "stopper"),
                Self.entry("response", "append", "config = { suffix = \"-never\" }"),
            ].joined())
        try plugboard.initialize()
        let stopped = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(stopped.firstText == "[checked] x!?-1 (stopped)")
        let blocked = try plugboard.request("tools/call", ["name": "crash", "arguments": ["text": "x"]])
        #expect(blocked.firstText == "Blocked by plugin 'gate': crash is not allowed here")
        #expect(blocked["result"]?["_meta"]?["dev.plugboard/blocked"]?["plugin"] == "gate")
    }

    @Test("a failing entry fails the call naming its own plugin; with on_error = skip the rest of the chain still runs", arguments: isolations)
    func failAndSkip(isolation: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("response", "append", "config = { suffix = \"-1\" }"),
                Self.entry("response", "thrower", "tools = [\"echo\"]"),
                Self.entry("response", "thrower", "tools = [\"add\"]\non_error = \"skip\""),
                Self.entry("response", "sloppy", "tools = [\"add\"]\non_error = \"skip\""),
                Self.entry("response", "never", "tools = [\"add\"]\non_error = \"skip\"\ntimeout = \"300ms\""),
                Self.entry("response", "sloppy", "tools = [\"payload\"]"),
                Self.entry("response", "never", "tools = [\"slow\"]\ntimeout = \"300ms\""),
                Self.entry("response", "append", "config = { suffix = \"-2\" }"),
            ].joined())
        try plugboard.initialize()
        let thrown = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(thrown["error"]?["data"] == ["plugin": "thrower", "phase": "response", "kind": "thrown"])
        #expect(thrown["error"]?["message"]?.stringValue?.contains("the plugin broke on purpose") == true)
        let skipped = try plugboard.request("tools/call", ["name": "add", "arguments": ["a": 2, "b": 2]])
        #expect(skipped.firstText?.hasSuffix("-1-2") == true, "\(skipped.serializedString)")
        let invalid = try plugboard.request("tools/call", ["name": "payload", "arguments": ["bytes": 10]])
        #expect(invalid["error"]?["data"] == ["plugin": "sloppy", "phase": "response", "kind": "invalid_output"])
        #expect(invalid["error"]?["message"]?.stringValue?.contains("unknown field \"txt\"") == true)
        let silent = try plugboard.request("tools/call", ["name": "slow", "arguments": ["ms": 1]])
        #expect(silent["error"]?["data"] == ["plugin": "never", "phase": "response", "kind": "timeout"])
        #expect(silent["error"]?["message"]?.stringValue?.contains("timed out after 0.3s") == true)
        let after = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "again"]])
        #expect(after["error"]?["data"]?["plugin"] == "thrower", "the chain still serves after a timeout")
    }

    /// What each fixture's failure to load says: a syntax error names the file; a module that
    /// ends its worker as it loads is known by the worker's exits. (One that never finishes
    /// loading meets the load timeout: `PluginPoolTests`.)
    static let unloadable = ["unloadable": "unloadable.mjs:4", "exits-on-load": "exited before it was ready"]

    @Test(
        "a plugin that cannot be loaded fails alone: the others of its chain still run, and its own on_error applies",
        arguments: isolations, unloadable.keys.sorted())
    func unloadablePlugin(isolation: String, plugin: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("response", "append", "config = { suffix = \"-1\" }"),
                Self.entry("response", plugin, "tools = [\"echo\"]\non_error = \"skip\""),
                Self.entry("response", plugin, "tools = [\"add\"]"),
                Self.entry("response", "shout"),
            ].joined())
        try plugboard.initialize()
        for text in ["first", "second"] {
            let skipped = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": .string(text)]])
            #expect(skipped.firstText == "\(text.uppercased())-1", "\(skipped.serializedString)")
        }
        let failed = try plugboard.request("tools/call", ["name": "add", "arguments": ["a": 1, "b": 2]])
        #expect(failed["error"]?["data"] == ["plugin": .string(plugin), "phase": "response", "kind": "unavailable"])
        let reason = try #require(Self.unloadable[plugin])
        #expect(failed["error"]?["message"]?.stringValue?.contains(reason) == true, "\(failed.serializedString)")
    }

    @Test("a worker that dies or spins inside a chain fails that call only; the next call is served", arguments: isolations)
    func crashAndHang(isolation: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("response", "append", "config = { suffix = \"-1\" }"), Self.entry("response", "crasher"),
                Self.entry("response", "hang", "timeout = \"500ms\""), Self.entry("response", "append", "config = { suffix = \"-2\" }"),
            ].joined())
        try plugboard.initialize()
        let crashed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "please crash"]])
        #expect(crashed["error"]?["data"]?["kind"] == "crash")
        #expect(crashed["error"]?["message"]?.stringValue?.contains("crasher") == true, "\(crashed.serializedString)")
        try expectRecovers(plugboard)
        let hung = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "hang"]])
        #expect(hung["error"]?["data"]?["kind"] == "timeout")
        #expect(hung["error"]?["message"]?.stringValue?.contains("hang") == true, "\(hung.serializedString)")
        try expectRecovers(plugboard)
    }

    @Test("state and context cross phases of a call in a chain of several plugins", arguments: isolations)
    func stateAndContext(isolation: String) throws {
        let plugboard = try Self.plugboard(
            isolation,
            chains: [
                Self.entry("request", "memo", "config = { name = \"first\" }"), Self.entry("request", "stamp", "config = { suffix = \"!\" }"),
                Self.entry("request", "memo", "config = { name = \"second\" }"),
                Self.entry("response", "memo", "config = { name = \"first\" }"), Self.entry("response", "stamp", "config = { suffix = \"?\" }"),
            ].joined())
        try plugboard.initialize()
        for index in 0..<4 {
            let answer = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": .string("call \(index)")]])
            #expect(answer.firstText == "call \(index)!?")
            let memo = try #require(answer["result"]?["_meta"]?["dev.plugboard/plugins"]?["memo"])
            #expect(memo["state"]?["asked"]?.stringValue == "call \(index)", "the first memo saw the text before stamp")
            #expect(memo["context"] == ["first": "request", "second": "request"])
        }
    }

    @Test("a plugin of a shared pool rewritten 30 times under calls: every call is answered by both plugins, and the last version goes live")
    func reloadUnderCalls() throws {
        let plugins = try ReloadTests.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        func source(_ version: Int) -> String {
            "export default { response(input) { return { text: \"v\(version):\" + input.rawContent } } }\n"
        }
        try ReloadTests.write(source(0), to: plugins + "/tag.mjs")
        try ReloadTests.write("export default { response(input) { return { text: input.rawContent + \":v\" + input.rawContent.split(\":\")[0].slice(1) } } }\n", to: plugins + "/echoversion.mjs")
        var toml = ReloadTests.configText(servers: ["demo"], plugin: "tag").replacingOccurrences(of: "PLUGINS", with: plugins)
        toml += "[[servers.demo.plugins.response]]\nplugin = \"echoversion\"\ntools = [\"echo\"]\n"
        let plugboard = try PlugboardUnderTest(config: try TemporaryConfig(toml))
        try plugboard.initialize()
        var nextID = 100
        var answers: [JSONValue] = []
        for version in 1...30 {
            let ids = (0..<2).map { _ in nextID += 1; return nextID }
            for id in ids {
                try plugboard.send(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": ["name": "echo", "arguments": ["text": "x"]]])
            }
            try ReloadTests.write(source(version), to: plugins + "/tag.mjs")
            Thread.sleep(forTimeInterval: 0.08)
            for id in ids { answers.append(try plugboard.response(to: .number(JSONNumber(id)), timeout: 20)) }
        }
        #expect(answers.count == 60)
        for answer in answers {
            let text = answer.firstText ?? "error: \(answer.serializedString)"
            let parts = text.split(separator: ":")
            #expect(parts.count == 3 && parts[0] == parts[2] && parts[1] == "x", "failed or mixed: \(text)")
        }
        let last = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(last.firstText == "v30:x:v30")
    }

    private func expectRecovers(_ plugboard: PlugboardUnderTest) throws {
        for attempt in 0..<25 {
            let next = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "fine"]])
            if next.firstText == "fine-1-2" { return }
            #expect(attempt < 24, "the chain never recovered: \(next.serializedString)")
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}
