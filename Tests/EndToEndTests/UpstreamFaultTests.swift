import Foundation
import JSON
import Testing

/// An upstream that breaks the rules must cost the client at most that one call, with an error
/// that says what happened, and never the session.
@Suite("misbehaving upstreams", .serialized)
struct UpstreamFaultTests {
    static let server = Checkout.root + "/Tests/EndToEndTests/Fixtures/misbehaving-server.mjs"

    static func plugboard(limits: String = "") throws -> PlugboardUnderTest {
        try PlugboardUnderTest(
            config: TemporaryConfig(
                """
                [limits]
                shutdown_timeout = "2s"
                \(limits)
                [servers.bad]
                command = "node"
                args = ["\(server)"]
                request_timeout = "1s"
                """))
    }

    @Test("invalid lines and a response with an id nobody used are dropped; the call still completes")
    func garbageIsDropped() throws {
        let plugboard = try Self.plugboard()
        try plugboard.initialize()
        let result = try plugboard.request("tools/call", ["name": "garbage", "arguments": [:]])
        #expect(result.firstText == "after garbage")
        #expect(plugboard.unsolicited.isEmpty, "nothing of the garbage reached the client")
        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["a": 1]])
        #expect(echoed.firstText == #"{"a":1}"#)
    }

    /// An aggregate of the demo server and the servers of `tables`.
    static func aggregateWithDemo(_ tables: String) throws -> PlugboardUnderTest {
        try PlugboardUnderTest(
            config: TemporaryConfig(
                """
                [expose]
                mode = "aggregate"
                [servers.demo]
                command = "node"
                args = ["\(Checkout.demoServer)"]
                \(tables)
                """))
    }

    @Test("calls to a server that cannot start fail at once with its cause while the other server serves")
    func serverThatCannotStartFailsFast() throws {
        let plugboard = try Self.aggregateWithDemo(
            """
            [servers.gone]
            url = "http://127.0.0.1:1/mcp"
            request_timeout = "30s"
            restart_backoff_initial = "2s"
            """)
        try plugboard.initialize()
        let started = Date()
        let failed = try plugboard.request("tools/call", ["name": "gone__echo", "arguments": [:]])
        let message = failed["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("'gone'") && message.contains("Connection refused") && message.contains("next attempt in"), "\(message)")
        #expect(Date().timeIntervalSince(started) < 5, "the call waited instead of failing with the cause")
        let served = try plugboard.request("tools/call", ["name": "demo__echo", "arguments": ["text": "still here"]])
        #expect(served.firstText == "still here")
    }

    @Test("aggregated task handles carry their server: tasks/get finds it, notifications/tasks names it")
    func taskHandlesRoute() throws {
        let plugboard = try Self.aggregateWithDemo(
            """
            [servers.ci]
            command = "node"
            args = ["\(Checkout.root)/Tests/EndToEndTests/Fixtures/tasks-server.mjs"]
            """)
        let initialized = try plugboard.initialize()
        #expect(initialized["result"]?["capabilities"]?["extensions"]?["io.modelcontextprotocol/tasks"] != nil)
        let created = try plugboard.request("tools/call", ["name": "ci__build", "arguments": [:]])
        #expect(created["result"]?["resultType"] == "task")
        let taskId = try #require(created["result"]?["taskId"]?.stringValue)
        #expect(taskId == "ci__t-1")
        var status = ""
        let deadline = Date().addingTimeInterval(5)
        while status != "completed" && Date() < deadline {
            let polled = try plugboard.request("tasks/get", ["taskId": .string(taskId)])
            #expect(polled["result"]?["taskId"]?.stringValue == taskId)
            status = polled["result"]?["status"]?.stringValue ?? ""
            usleep(20_000)
        }
        #expect(status == "completed")
        let notification = plugboard.unsolicited.first { $0["method"] == "notifications/tasks" }
        #expect(notification?["params"]?["taskId"]?.stringValue == taskId)
        let unknown = try plugboard.request("tasks/get", ["taskId": "nowhere__t-1"])
        #expect(unknown["error"]?["code"] == -32602)
        let cancelled = try plugboard.request("tasks/cancel", ["taskId": .string(taskId)])
        #expect(cancelled["result"] != nil)
    }

    @Test("a call the upstream never answers times out with -32001 naming the server and method")
    func stalledCallTimesOut() throws {
        let plugboard = try Self.plugboard()
        try plugboard.initialize()
        let started = Date()
        let result = try plugboard.request("tools/call", ["name": "stall", "arguments": [:]])
        let elapsed = Date().timeIntervalSince(started)
        #expect(result["error"]?["code"] == -32001)
        #expect(result["error"]?["message"]?.stringValue?.contains("'bad'") == true)
        #expect(result["error"]?["data"]?["method"] == "tools/call")
        #expect(elapsed >= 0.9 && elapsed < 3)
        #expect(try plugboard.request("ping")["result"] != nil)
    }

    @Test("an answer over max_message_bytes is discarded and its call fails at once saying why, not as a timeout")
    func oversizedLineIsDiscarded() throws {
        let plugboard = try Self.plugboard(limits: "max_message_bytes = 1048576")
        try plugboard.initialize()
        let started = Date()
        let result = try plugboard.request("tools/call", ["name": "huge", "arguments": [:]])
        #expect(Date().timeIntervalSince(started) < 0.9)
        #expect(result["error"]?["code"] == -32603)
        let message = result["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("3145") && message.contains("limits.max_message_bytes"), "\(message)")
        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": [:]])
        #expect(echoed.firstText == "{}")
    }

    @Test("an answer nested too deeply fails its call at once with the parser's reason")
    func tooDeepAnswer() throws {
        let plugboard = try Self.plugboard()
        try plugboard.initialize()
        let started = Date()
        let result = try plugboard.request("tools/call", ["name": "deep", "arguments": [:]])
        #expect(Date().timeIntervalSince(started) < 0.9)
        #expect(result["error"]?["code"] == -32603)
        #expect(result["error"]?["message"]?.stringValue?.contains("not valid JSON-RPC") == true)
        #expect(try plugboard.request("ping")["result"] != nil)
    }

    @Test("a server that closes its stdout but keeps running is stopped and restarted; its call fails at once")
    func closedStdoutIsRestarted() throws {
        let plugboard = try Self.plugboard()
        try plugboard.initialize()
        let started = Date()
        let result = try plugboard.request("tools/call", ["name": "mute", "arguments": [:]])
        #expect(Date().timeIntervalSince(started) < 0.95)
        #expect(result["error"]?["message"]?.stringValue?.contains("closed its stdout") == true, "\(result)")
        var echoed: JSONValue = .null
        for _ in 0..<50 {
            echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["back": true]])
            if echoed["error"] == nil { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(echoed.firstText == #"{"back":true}"#)
    }

    @Test("an upstream that stops reading gets a bounded backlog; every call still gets an answer")
    func backpressureIsBounded() throws {
        let plugboard = try Self.plugboard(limits: "max_queued_bytes = 1048576")
        try plugboard.initialize()
        _ = try plugboard.request("tools/call", ["name": "deaf", "arguments": [:]])
        let filler = String(repeating: "z", count: 100_000)
        let count = 40
        for index in 0..<count {
            try plugboard.send([
                "jsonrpc": "2.0", "id": .number(JSONNumber(1000 + index)), "method": "tools/call",
                "params": ["name": "echo", "arguments": ["filler": .string(filler)]],
            ])
        }
        var codes: [Int64] = []
        for index in 0..<count {
            let answer = try plugboard.response(to: .number(JSONNumber(1000 + index)), timeout: 10)
            codes.append(answer["error"]?["code"]?.int64Value ?? 0)
        }
        #expect(codes.allSatisfy { $0 == -32001 || $0 == -32603 }, "each call failed with a timeout or a not-reading error: \(codes)")
        #expect(codes.contains(-32603), "the backlog limit refused some calls at once")
        #expect(try plugboard.request("ping")["result"] != nil)
    }
}
