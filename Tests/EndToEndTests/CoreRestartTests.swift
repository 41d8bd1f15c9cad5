import Foundation
import Glibc
import JSON
import Testing

/// The proxy core as the supervised child of plugboard's outer process: killed, stopped or
/// crashing in a loop, it is replaced while the stdio client stays connected.
@Suite("the core is replaced while the client stays connected", .serialized)
struct CoreRestartTests {
    final class Rig {
        let plugboard: PlugboardUnderTest
        let statusFile = NSTemporaryDirectory() + "plugboard-core-status-\(UUID().uuidString).json"
        private var nextID = 1000

        init(core: String = "isolate = true") throws {
            plugboard = try PlugboardUnderTest(
                config: TemporaryConfig(
                    """
                    [core]
                    \(core)
                    [servers.demo]
                    command = "node"
                    args = ["\(Checkout.demoServer)"]
                    """),
                extraArguments: ["--status-file", statusFile, "--no-watch"])
            _ = try plugboard.initialize()
        }

        deinit { unlink(statusFile) }

        /// The core: plugboard's one child running plugboard.
        func corePID() throws -> Int32 {
            var found: [Int32] = []
            _ = plugboard.eventually { found = plugboard.descendants(runningCommandContaining: "run\u{0}--config"); return found.count == 1 }
            return try #require(found.first, "one core under plugboard: \(found)")
        }

        func start(_ tool: String, _ arguments: JSONValue) throws -> JSONValue {
            nextID += 1
            let id = JSONValue.number(JSONNumber(nextID))
            try plugboard.send(["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]])
            return id
        }

        func echo(_ text: String) throws -> String? {
            try plugboard.response(to: try start("echo", ["text": .string(text)]), timeout: 20).firstText
        }

        /// What must hold after any fault: a new core serves, one upstream runs, nothing is a zombie.
        func expectRecovered(sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try echo("after") == "after", sourceLocation: sourceLocation)
            #expect(
                plugboard.eventually { plugboard.descendants(runningCommandContaining: "demo-server/server.mjs").count == 1 },
                "the failed core's upstream is stopped, the new one's runs", sourceLocation: sourceLocation)
            #expect(plugboard.eventually { plugboard.zombies().isEmpty }, "zombies: \(plugboard.zombies())", sourceLocation: sourceLocation)
        }
    }

    @Test("kill -9 of the core mid-call: that call gets an error, the next is served, the client never saw EOF")
    func killedCore() throws {
        let rig = try Rig()
        let core = try rig.corePID()
        let doomed = try rig.start("slow", ["ms": 20_000])
        usleep(300_000)
        kill(core, SIGKILL)
        let answer = try rig.plugboard.response(to: doomed, timeout: 10)
        #expect(answer["error"]?["code"] == -32603)
        #expect(answer["error"]?["message"]?.stringValue?.contains("core stopped while serving tools/call") == true, "\(answer.serializedString)")
        try rig.expectRecovered()
        #expect(try rig.corePID() != core)
        let status = try rig.plugboard.status(statusFile: rig.statusFile)
        #expect(status["core"]?["restarts"] == 1)
        #expect(status["core"]?["lastRestart"]?["cause"]?.stringValue?.contains("SIGKILL") == true, "\(status["core"]?.serializedString ?? "")")
        #expect(status["pid"]?.int64Value == Int64(rig.plugboard.process.pid), "the pid is the process that was started")
        #expect(status["core"]?["pid"]?.int64Value == Int64(try rig.corePID()))
    }

    @Test("a stopped core (SIGSTOP) misses its health checks, is replaced, and its call is answered with an error")
    func stoppedCore() throws {
        let rig = try Rig(core: "isolate = true\nhealth_check_interval = \"200ms\"\nhealth_check_timeout = \"1s\"")
        let core = try rig.corePID()
        let held = try rig.start("slow", ["ms": 20_000])
        usleep(300_000)
        let stoppedAt = Date()
        kill(core, SIGSTOP)
        let answer = try rig.plugboard.response(to: held, timeout: 10)
        #expect(answer["error"]?["message"]?.stringValue?.contains("did not answer a health check within 1s") == true, "\(answer.serializedString)")
        #expect(Date().timeIntervalSince(stoppedAt) < 4, "detected within the health-check deadline")
        try rig.expectRecovered()
    }

    @Test("a core killed again and again is replaced each time; the status counts the restarts and the time to recover")
    func crashLoop() throws {
        let rig = try Rig(core: "isolate = true\nrestart_backoff_initial = \"200ms\"\nrestart_backoff_max = \"2s\"")
        for _ in 0..<3 {
            let core = try rig.corePID()
            kill(core, SIGKILL)
            _ = rig.plugboard.eventually { (try? rig.corePID()).map { $0 != core } ?? false }
            #expect(try rig.echo("between") == "between")
        }
        let status = try rig.plugboard.status(statusFile: rig.statusFile)
        #expect(status["core"]?["restarts"] == 3)
        #expect(status["core"]?["lastRestart"]?["recoveryMilliseconds"]?.doubleValue != nil)
        try rig.expectRecovered()
    }

    @Test("SIGTERM to both processes at once (pkill plugboard) drains the call in flight instead of cutting it")
    func signalledTogether() throws {
        let rig = try Rig()
        let core = try rig.corePID()
        let draining = try rig.start("slow", ["ms": 1500])
        usleep(300_000)
        kill(core, SIGTERM)
        kill(rig.plugboard.process.pid, SIGTERM)
        let answer = try rig.plugboard.response(to: draining, timeout: 10)
        #expect(answer["result"] != nil, "drained, not cut: \(answer.serializedString)")
        #expect(rig.plugboard.waitForExit(timeout: 10) == .exited(0))
    }

    @Test("without [core] isolate there is one process, as before")
    func singleProcess() throws {
        let rig = try Rig(core: "")
        #expect(rig.plugboard.descendants(runningCommandContaining: "run\u{0}--config").isEmpty)
        #expect(try rig.echo("alone") == "alone")
        let status = try rig.plugboard.status(statusFile: rig.statusFile)
        #expect(status["core"]?["isolated"] == false)
    }
}
