import Foundation
import Glibc
import JSON
import Testing

/// Faults injected into a running plugboard: each case checks what every client call received,
/// that plugboard serves afterwards, that no child is left a zombie, that no descriptor leaked,
/// and that the status dump accounts for every request.
@Suite("fault injection", .serialized)
struct FaultInjectionTests {
    static let pluginsDirectory = Checkout.root + "/Tests/EndToEndTests/Fixtures/plugins"
    static let misbehaving = Checkout.root + "/Tests/EndToEndTests/Fixtures/misbehaving-server.mjs"

    /// A plugboard with the demo server (and optionally the misbehaving one), a status file,
    /// and the given plugin chains on the demo server.
    final class Rig {
        let plugboard: PlugboardUnderTest
        let statusFile = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-fault-\(UUID().uuidString).json").path
        private var nextID = 1000
        private(set) var baselineDescriptors = 0

        init(
            chains: String = "", plugins: String = "", pluginsDirectory: String = FaultInjectionTests.pluginsDirectory, misbehaving: Bool = false,
            httpPort: Int? = nil, launcher: [String] = [], environment: [String: String] = [:]
        ) throws {
            var toml = """
                plugins_dir = "\(pluginsDirectory)"
                [limits]
                request_timeout = "3s"
                shutdown_timeout = "3s"
                [plugins]
                timeout = "10s"
                \(plugins)
                \(httpPort == nil ? "" : "[http]\nlisten = \"127.0.0.1:\(httpPort!)\"\nstdio = true")
                [servers.demo]
                command = "node"
                args = ["\(Checkout.demoServer)"]
                restart_backoff_initial = "100ms"
                \(chains)

                """
            if misbehaving {
                toml += """
                    [servers.bad]
                    command = "node"
                    args = ["\(FaultInjectionTests.misbehaving)"]
                    restart_backoff_initial = "100ms"

                    """
            }
            plugboard = try PlugboardUnderTest(
                config: TemporaryConfig(toml), extraArguments: ["--status-file", statusFile],
                environment: environment, launcher: launcher)
            try plugboard.initialize()
            let warm = try call(misbehaving ? "demo__echo" : "echo", ["text": "warm"])
            #expect(warm.firstText == "warm")
            baselineDescriptors = plugboard.openDescriptorCount()
        }

        deinit { unlink(statusFile) }

        /// Sends a tools/call and returns its id without waiting.
        func start(_ tool: String, _ arguments: JSONValue) throws -> JSONValue {
            nextID += 1
            let id = JSONValue.number(JSONNumber(nextID))
            try plugboard.send(["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]])
            return id
        }

        func call(_ tool: String, _ arguments: JSONValue, timeout: Double = 15) throws -> JSONValue {
            try plugboard.response(to: try start(tool, arguments), timeout: timeout)
        }

        /// What every case ends with: a fresh call works, no zombie, no leaked descriptor,
        /// every request accounted for and none left unanswered.
        func expectSound(tool: String = "echo", sourceLocation: SourceLocation = #_sourceLocation) throws {
            // Restarts and respawned workers may take a moment (much longer under sanitizers).
            var answer = try call(tool, ["text": "still here"])
            for _ in 0..<40 where answer.firstText != "still here" {
                usleep(250_000)
                answer = try call(tool, ["text": "still here"])
            }
            #expect(answer.firstText == "still here", "plugboard serves after the fault: \(answer.serializedString)", sourceLocation: sourceLocation)
            #expect(plugboard.eventually { plugboard.zombies().isEmpty }, "zombies: \(plugboard.zombies())", sourceLocation: sourceLocation)
            #expect(
                plugboard.eventually { plugboard.openDescriptorCount() <= baselineDescriptors + 2 },
                "descriptors: \(plugboard.openDescriptorCount()) now, \(baselineDescriptors) before the fault", sourceLocation: sourceLocation)
            let accounting = try #require(try plugboard.status(statusFile: statusFile)["proxy"]?["accounting"], sourceLocation: sourceLocation)
            func count(_ key: String) -> Int64 { accounting[key]?.int64Value ?? -1 }
            #expect(count("unanswered") == 0, "\(accounting.serializedString)", sourceLocation: sourceLocation)
            #expect(
                count("received") == count("answeredOK") + count("answeredError") + count("abandoned") + count("cancelled") + count("duplicateIDs"),
                "every request is accounted for: \(accounting.serializedString)", sourceLocation: sourceLocation)
        }
    }

    @Test("kill -9 of a plugin worker mid-call fails that call naming the plugin; a new worker serves the next")
    func killedWorker() throws {
        let rig = try Rig(chains: "[[servers.demo.plugins.response]]\nplugin = \"slowpass\"\ntools = [\"echo\"]\n")
        let id = try rig.start("echo", ["text": "doomed"])
        usleep(300_000)
        let workers = rig.plugboard.descendants(runningCommandContaining: "plugin-host")
        #expect(!workers.isEmpty)
        for worker in workers { kill(worker, SIGKILL) }
        let answer = try rig.plugboard.response(to: id)
        let message = answer["error"]?["message"]?.stringValue ?? answer.firstText ?? ""
        #expect(message.contains("slowpass"), "\(answer.serializedString)")
        try rig.expectSound()
    }

    @Test("kill -9 of an upstream mid-call fails that call at once; the restarted server serves the next")
    func killedUpstream() throws {
        let rig = try Rig()
        let id = try rig.start("slow", ["ms": 5000])
        usleep(200_000)
        let servers = rig.plugboard.descendants(runningCommandContaining: "demo-server/server.mjs")
        #expect(servers.count == 1)
        for server in servers { kill(server, SIGKILL) }
        let started = Date()
        let answer = try rig.plugboard.response(to: id)
        #expect(answer["error"]?["message"]?.stringValue?.contains("'demo'") == true, "\(answer.serializedString)")
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(rig.plugboard.eventually { rig.plugboard.descendants(runningCommandContaining: "demo-server/server.mjs").count == 1 })
        try rig.expectSound()
    }

    @Test("kill -9 of worker and upstream while a reload swaps the plugin: every call is answered")
    func killsDuringReload() throws {
        let plugins = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-fault-plugins-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let slow = try String(contentsOfFile: Self.pluginsDirectory + "/slowpass.mjs", encoding: .utf8)
        try slow.write(toFile: plugins + "/slowpass.mjs", atomically: true, encoding: .utf8)
        let rig = try Rig(chains: "[[servers.demo.plugins.response]]\nplugin = \"slowpass\"\ntools = [\"echo\"]\n", pluginsDirectory: plugins)
        var ids: [JSONValue] = []
        for index in 0..<4 { ids.append(try rig.start("echo", ["text": .string("call \(index)")])) }
        usleep(200_000)
        try (slow + "// edited\n").write(toFile: plugins + "/slowpass.mjs", atomically: true, encoding: .utf8)
        usleep(150_000)
        for pid in rig.plugboard.descendants(runningCommandContaining: "plugin-host") + rig.plugboard.descendants(runningCommandContaining: "demo-server/server.mjs") {
            kill(pid, SIGKILL)
        }
        for id in ids {
            let answer = try rig.plugboard.response(to: id, timeout: 15)
            #expect(answer["result"] != nil || answer["error"] != nil)
        }
        try rig.expectSound()
    }

    @Test("an upstream writing a 20 MiB line: discarded, its call answered with the cause, the process stays bounded")
    func twentyMebibyteLine() throws {
        let rig = try Rig(misbehaving: true)
        let answer = try rig.call("bad__huge", ["mib": 20])
        #expect(answer["error"]?["code"] == -32603)
        #expect(answer["error"]?["message"]?.stringValue?.contains("max_message_bytes") == true)
        let status = try String(contentsOfFile: "/proc/\(rig.plugboard.pid)/status", encoding: .utf8)
        let rssKiB = Int(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first ?? "") ?? 0
        #expect(rssKiB < 200 * 1024, "RSS \(rssKiB) KiB after a 20 MiB line")
        try rig.expectSound(tool: "demo__echo")
    }

    @Test("a call the client cancels is settled as cancelled, never left unanswered, and the upstream hears of it")
    func clientCancels() throws {
        let rig = try Rig(misbehaving: true)
        let id = try rig.start("bad__stall", .object([:]))
        usleep(200_000)
        try rig.plugboard.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": id, "reason": "changed my mind"]])
        try rig.expectSound(tool: "demo__echo")
        let accounting = try #require(try rig.plugboard.status(statusFile: rig.statusFile)["proxy"]?["accounting"])
        #expect(accounting["cancelled"] == 1, "\(accounting.serializedString)")
    }

    @Test("invalid UTF-8 and a response with an id nobody asked for are dropped; the call still completes")
    func invalidLines() throws {
        let rig = try Rig(misbehaving: true)
        let answer = try rig.call("bad__garbage", .object([:]))
        #expect(answer.firstText == "after garbage")
        let upstream = try rig.plugboard.status(statusFile: rig.statusFile)["proxy"]?["upstreams"]?["bad"]
        #expect(upstream?["malformedMessages"] == 2)
        #expect(upstream?["unmatchedResponses"] == 1)
        try rig.expectSound(tool: "demo__echo")
    }

    @Test("an HTTP client that ends its session with calls in flight: the upstream hears notifications/cancelled")
    func clientLeavesMidCall() throws {
        let cancelLog = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-cancel-\(UUID().uuidString)").path
        defer { unlink(cancelLog) }
        let port = HTTPTestClient.freePort()
        let rig = try Rig(misbehaving: true, httpPort: port, environment: ["CANCEL_LOG": cancelLog])
        do {  // the test's own connections close at the end of this scope
            let client = try HTTPTestClient(port: port)
            client.post(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "f", "version": "1"]]])
            let session = try #require(try client.response().header("Mcp-Session-Id"))
            // One connection each: requests on one connection are answered one after the other.
            let callers = [try HTTPTestClient(port: port), try HTTPTestClient(port: port)]
            for (caller, id) in zip(callers, 2...3) {
                caller.post(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": ["name": "bad__stall", "arguments": [:]]], session: session)
            }
            usleep(300_000)
            client.write("DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: \(session)\r\n\r\n")
            #expect(try client.response().status == 204)
            #expect(rig.plugboard.eventually(5) {
                ((try? String(contentsOfFile: cancelLog, encoding: .utf8)) ?? "").split(separator: "\n").count == 2
            }, "both stalled calls were cancelled upstream")
        }
        try rig.expectSound(tool: "demo__echo")
        let accounting = try rig.plugboard.status(statusFile: rig.statusFile)["proxy"]?["accounting"]
        #expect(accounting?["abandoned"] == 2)
    }

    @Test("a plugin that allocates without bound hits its memory cap; its worker is replaced")
    func unboundedAllocation() throws {
        let rig = try Rig(chains: "[[servers.demo.plugins.response]]\nplugin = \"hog\"\ntools = [\"echo\"]\n", plugins: "max_memory_mb = 48")
        let answer = try rig.call("echo", ["text": "hog"], timeout: 30)
        let message = answer["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("hog"), "\(answer.serializedString)")
        try rig.expectSound()
    }

    @Test("a plugin that forks a child and returns leaves no orphan or zombie behind")
    func forkingPlugin() throws {
        let rig = try Rig(chains: "[[servers.demo.plugins.response]]\nplugin = \"forker\"\ntools = [\"echo\"]\n")
        for index in 0..<5 { _ = try rig.call("echo", ["text": .string("fork \(index)")]) }
        #expect(rig.plugboard.eventually(5) { rig.plugboard.descendants(runningCommandContaining: "sleep").isEmpty })
        try rig.expectSound()
    }

    @Test("out of file descriptors: connections beyond the limit wait, the process keeps serving, and recovers")
    func descriptorsExhausted() throws {
        let port = HTTPTestClient.freePort()
        let rig = try Rig(httpPort: port, launcher: ["/usr/bin/prlimit", "--nofile=64:64", "--"])
        var clients: [HTTPTestClient] = []
        for _ in 0..<80 {
            guard let client = try? HTTPTestClient(port: port) else { break }
            clients.append(client)
        }
        let answer = try rig.call("echo", ["text": "stdio still works"])
        #expect(answer.firstText == "stdio still works")
        clients.removeAll()
        let recovered = try HTTPTestClient(port: port)
        #expect(rig.plugboard.eventually {
            recovered.get("/healthz")
            return (try? recovered.response(timeout: 2))?.status == 200
        })
        try rig.expectSound()
    }

    @Test("the config directory deleted while running: plugboard keeps serving the last generation")
    func configDirectoryDeleted() throws {
        let rig = try Rig()
        try FileManager.default.removeItem(atPath: rig.plugboard.config.directory)
        usleep(500_000)
        kill(rig.plugboard.pid, SIGHUP)
        usleep(300_000)
        try rig.expectSound()
        let status = try rig.plugboard.status(statusFile: rig.statusFile)
        let reload = status["lastReload"]
        #expect(reload?["result"] == "rejected", "the reload without a config is refused: \(reload?.serializedString ?? "")")
    }
}
