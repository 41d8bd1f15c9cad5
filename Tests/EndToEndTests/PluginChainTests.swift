import Foundation
import JSON
import Testing

/// Plugins in warm Node workers, run by the built binary on real calls to the demo server.
@Suite("plugin chains", .serialized)
struct PluginChainTests {
    static let pluginsDirectory = Checkout.root + "/Tests/EndToEndTests/Fixtures/plugins"

    static func plugboard(chains: String, plugins: String = "min_workers = 2") throws -> PlugboardUnderTest {
        try PlugboardUnderTest(
            config: TemporaryConfig(
                """
                plugins_dir = "\(pluginsDirectory)"
                [plugins]
                timeout = "1s"
                \(plugins)
                [limits]
                shutdown_timeout = "3s"
                [servers.demo]
                command = "node"
                args = ["\(Checkout.demoServer)"]
                \(chains)
                """))
    }

    @Test("a response plugin rewrites a tool's text; its console.log goes to the log, not to the client")
    func responseRewrite() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "shout"
            tools = ["echo"]
            """)
        try plugboard.initialize()
        let shouted = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "quiet please"]])
        #expect(shouted.firstText == "QUIET PLEASE")
        #expect(shouted["result"]?["_meta"]?["dev.plugboard/plugins"]?["shout"]?["by"] == "shout")
        let untouched = try plugboard.request("tools/call", ["name": "add", "arguments": ["a": 1, "b": 2]])
        #expect(untouched["result"]?["structuredContent"]?["sum"] == 3)
        for line in plugboard.stdoutLines {
            #expect(!line.contains("shout saw"), "a plugin's console.log reached stdout")
        }
    }

    @Test("five plugins in a chain run in their configured order")
    func fiveInOrder() throws {
        let entries = (1...5).map { "[[servers.demo.plugins.response]]\nplugin = \"append\"\nconfig = { suffix = \"-\($0)\" }\n" }
        let plugboard = try Self.plugboard(chains: entries.joined(separator: "\n"))
        try plugboard.initialize()
        let result = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(result.firstText == "x-1-2-3-4-5")
    }

    @Test("a request phase's state reaches the same entry's response phase of that call, whichever worker runs it; context is shared")
    func stateAcrossPhases() throws {
        let plugboard = try Self.plugboard(
            chains: """
                [[servers.demo.plugins.request]]
                plugin = "memo"
                config = { name = "first" }
                [[servers.demo.plugins.response]]
                plugin = "memo"
                config = { name = "first" }
                """,
            plugins: "min_workers = 2\nmax_workers = 2")
        try plugboard.initialize()
        for index in 0..<8 {
            let answer = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": .string("call \(index)")]])
            let memo = try #require(answer["result"]?["_meta"]?["dev.plugboard/plugins"]?["memo"])
            #expect(memo["state"]?["asked"]?.stringValue == "call \(index)")
            #expect(memo["context"] == ["first": "request"])
        }
    }

    @Test("a request plugin blocks a call with its reason and rewrites another's arguments")
    func requestGate() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.request]]
            plugin = "gate"
            config = { deny = ["crash"] }
            """)
        try plugboard.initialize()
        let blocked = try plugboard.request("tools/call", ["name": "crash", "arguments": [:]])
        #expect(blocked["result"]?["isError"] == true)
        #expect(blocked.firstText == "Blocked by plugin 'gate': crash is not allowed here")
        #expect(blocked["result"]?["_meta"]?["dev.plugboard/blocked"]?["plugin"] == "gate")
        let rewritten = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "hi"]])
        #expect(rewritten.firstText == "[checked] hi")
    }

    @Test("a crashing plugin fails only that call, naming plugin and phase; a new worker serves the next")
    func crashingPlugin() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "crasher"
            """)
        try plugboard.initialize()
        let crashed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "please crash"]])
        #expect(crashed["error"]?["code"] == -32603)
        let message = crashed["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("crasher") && message.contains("response phase"), "\(message)")
        #expect(crashed["error"]?["data"] == ["plugin": "crasher", "phase": "response", "kind": "crash"])
        for attempt in 0..<20 {
            let next = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "fine"]])
            if next.firstText == "fine" { break }
            #expect(attempt < 19, "the pool never recovered: \(next.serializedString)")
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    @Test("a plugin stuck in a loop times out; its worker is killed and replaced")
    func hangingPlugin() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "hang"
            """, plugins: "min_workers = 1\nmax_workers = 1")
        try plugboard.initialize()
        let started = Date()
        let hung = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "hang"]])
        #expect(hung["error"]?["message"]?.stringValue?.contains("timed out after 1s") == true)
        #expect(Date().timeIntervalSince(started) < 3)
        var recovered = false
        for _ in 0..<40 where !recovered {
            let next = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "ok"]])
            recovered = next.firstText == "ok"
            if !recovered { Thread.sleep(forTimeInterval: 0.25) }
        }
        #expect(recovered, "the stuck worker was never replaced")
    }

    @Test("a plugin that throws, or never answers, fails that call with kind thrown or timeout; the next call is served")
    func throwingAndSilentPlugins() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "thrower"
            tools = ["echo"]
            [[servers.demo.plugins.response]]
            plugin = "never"
            tools = ["add"]
            timeout = "500ms"
            """)
        try plugboard.initialize()
        let thrown = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(thrown["error"]?["data"]?["kind"] == "thrown")
        #expect(thrown["error"]?["message"]?.stringValue?.contains("the plugin broke on purpose") == true)
        let silent = try plugboard.request("tools/call", ["name": "add", "arguments": ["a": 1, "b": 1]])
        #expect(silent["error"]?["data"]?["kind"] == "timeout")
        #expect(silent["error"]?["message"]?.stringValue?.contains("timed out after 0.5s") == true)
        let untouched = try plugboard.request("tools/call", ["name": "payload", "arguments": ["bytes": 10]])
        #expect(untouched.firstText?.count == 10)
        for line in plugboard.stdoutLines {
            #expect(!line.contains("garbage"), "a plugin's stdout reached the client")
        }
    }

    @Test("invalid plugin output fails the call and says which field is wrong; on_error = skip passes it by")
    func invalidOutput() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "sloppy"
            tools = ["echo"]
            [[servers.demo.plugins.response]]
            plugin = "sloppy"
            tools = ["add"]
            on_error = "skip"
            """)
        try plugboard.initialize()
        let failed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        #expect(failed["error"]?["message"]?.stringValue?.contains("unknown field \"txt\"") == true)
        let skipped = try plugboard.request("tools/call", ["name": "add", "arguments": ["a": 2, "b": 2]])
        #expect(skipped["result"]?["structuredContent"]?["sum"] == 4)
    }

    @Test("exec mode runs a script of the original design once per call")
    func execMode() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "legacy"
            mode = "exec"
            """)
        try plugboard.initialize()
        let result = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "old school"]])
        #expect(result.firstText == "old school (response via exec)")
    }

    @Test("a tools/list chain hides tools and rewrites descriptions, aggregated or not")
    func listChain() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "hide-tools"
            methods = ["tools/list"]
            config = { hide = ["crash", "fail"] }
            """)
        try plugboard.initialize()
        let tools = try plugboard.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
        let names = tools.compactMap { $0["name"]?.stringValue }
        #expect(names.contains("echo"))
        #expect(!names.contains("crash") && !names.contains("fail"))
        #expect(tools.allSatisfy { $0["description"]?.stringValue?.hasPrefix("[curated]") == true })
    }

    @Test("a plugin that leaves orphaned processes behind leaves no zombies: plugboard reaps them")
    func orphansAreReaped() throws {
        let plugboard = try Self.plugboard(chains: """
            [[servers.demo.plugins.response]]
            plugin = "forker"
            """)
        try plugboard.initialize()
        for _ in 0..<3 {
            _ = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]])
        }
        Thread.sleep(forTimeInterval: 2.0)
        #expect(ProcessTable.zombieChildren(of: plugboard.process.pid).isEmpty)
    }
}

/// What /proc says about a process's children.
enum ProcessTable {
    static func zombieChildren(of pid: Int32) -> [Int32] {
        let list = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return list.split(separator: " ").compactMap { Int32($0) }.filter { child in
            let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
        }
    }
}
