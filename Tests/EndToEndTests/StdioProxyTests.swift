import Foundation
import JSON
import Testing

/// The built binary between a scripted client and real demo servers (Node child processes).
@Suite("plugboard run over stdio", .serialized)
struct StdioProxyTests {
    @Test("one upstream is passed through transparently: names unchanged, results intact")
    func transparentSingleUpstream() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        let initialized = try plugboard.initialize()
        #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
        #expect(initialized["result"]?["serverInfo"]?["name"] == "demo")

        let tools = try plugboard.request("tools/list")
        let names = tools["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("echo"))
        #expect(names.contains("payload"))

        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "héllo \"world\" 🌍"]])
        #expect(echoed.firstText == "héllo \"world\" 🌍")
    }

    @Test("several upstreams are aggregated behind prefixed names and routed back by prefix")
    func aggregatedUpstreams() throws {
        let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
        let initialized = try plugboard.initialize()
        #expect(initialized["result"]?["serverInfo"]?["name"] == "plugboard")
        #expect(initialized["result"]?["capabilities"]?["tools"]?["listChanged"] == true)

        let tools = try plugboard.request("tools/list")
        let names = Set(tools["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        #expect(names.contains("alpha__echo"))
        #expect(names.contains("beta__echo"))
        #expect(!names.contains("echo"))

        let viaBeta = try plugboard.request("tools/call", ["name": "beta__echo", "arguments": ["text": "to beta"]])
        #expect(viaBeta.firstText == "to beta")

        let unknown = try plugboard.request("tools/call", ["name": "gamma__echo", "arguments": [:]])
        #expect(unknown["error"]?["code"] == -32602)
        #expect(unknown["error"]?["message"]?.stringValue?.contains("gamma__echo") == true)
    }

    @Test("request ids come back exactly as the client wrote them, strings and integers alike")
    func idsRestoredExactly() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        let ids: [String] = [#""abc""#, #""ü-\u00e9""#, "9007199254740993", "0", "-7"]
        for id in ids {
            try plugboard.sendLine(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}"#)
        }
        var seen: [String] = []
        for _ in ids {
            guard let line = try plugboard.readLine(timeout: 10) else { throw TestTimeout(waitingFor: "responses") }
            let idStart = line.range(of: #""id":"#)!.upperBound
            let rest = line[idStart...]
            let idEnd = rest.firstIndex(where: { $0 == "," || $0 == "}" })!
            seen.append(String(rest[..<idEnd]))
        }
        #expect(Set(seen) == Set(ids))
    }

    @Test("a slow call does not hold up ping or other calls")
    func slowCallDoesNotBlock() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        try plugboard.send(["jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": ["name": "slow", "arguments": ["ms": 1500]]])
        let started = Date()
        let pong = try plugboard.request("ping")
        #expect(pong["result"] == .object([:]))
        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "fast"]])
        #expect(echoed.firstText == "fast")
        #expect(Date().timeIntervalSince(started) < 1.4)
        let slow = try plugboard.response(to: "slow")
        #expect(slow["result"] != nil)
    }

    @Test("malformed JSON gets -32700 with a null id and the session carries on")
    func malformedJSON() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        try plugboard.sendLine("{bad json")
        let error = try plugboard.waitFor("parse error") { $0["error"]?["code"] == -32700 }
        #expect(error["id"] == .null)
        try plugboard.sendLine(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}"#)
        _ = try plugboard.waitFor("second parse error") { $0["error"]?["code"] == -32700 }
        try plugboard.sendLine(#"{"jsonrpc":"1.0","id":6,"method":"ping"}"#)
        let invalid = try plugboard.waitFor("invalid request") { $0["error"]?["code"] == -32600 }
        #expect(invalid["id"] == 6)
        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "still here"]])
        #expect(echoed.firstText == "still here")
    }

    @Test("progress notifications reach the client that asked for them")
    func progressNotifications() throws {
        let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
        try plugboard.initialize()
        let result = try plugboard.request(
            "tools/call",
            ["name": "beta__progress", "arguments": ["steps": 3, "delay_ms": 10], "_meta": ["progressToken": "tok-1"]])
        #expect(result["result"] != nil)
        let progress = plugboard.unsolicited.filter { $0["method"] == "notifications/progress" }
        #expect(progress.count == 3)
        #expect(progress.allSatisfy { $0["params"]?["progressToken"] == "tok-1" })
    }

    @Test("cancelling a call reaches the upstream under its own id and no answer follows")
    func cancellation() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        try plugboard.send(["jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": ["name": "slow", "arguments": ["ms": 3000]]])
        Thread.sleep(forTimeInterval: 0.2)
        try plugboard.notify("notifications/cancelled", ["requestId": 77, "reason": "user pressed stop"])
        let echoed = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "after cancel"]])
        #expect(echoed.firstText == "after cancel")
        #expect(throws: TestTimeout.self) { try plugboard.response(to: 77, timeout: 3.5) }
    }

    @Test("a sampling request from a server goes to the client and the answer back to that server")
    func samplingRoundTrip() throws {
        let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
        try plugboard.initialize()
        try plugboard.send(["jsonrpc": "2.0", "id": "call", "method": "tools/call", "params": ["name": "beta__sample", "arguments": ["prompt": "haiku"]]])
        let sampling = try plugboard.waitFor("sampling request") { $0["method"] == "sampling/createMessage" }
        let samplingID = try #require(sampling["id"])
        try plugboard.send([
            "jsonrpc": "2.0", "id": samplingID,
            "result": ["role": "assistant", "content": ["type": "text", "text": "sampled words"], "model": "test-model"],
        ])
        let result = try plugboard.response(to: "call")
        #expect(result.firstText?.contains("sampled words") == true)
    }

    @Test("upstream errors pass through with code, message and data")
    func errorPassThrough() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        let failed = try plugboard.request("tools/call", ["name": "fail", "arguments": [:]])
        #expect(failed["error"]?["code"] == -32050)
        #expect(failed["error"]?["message"] == "demo failure")
        #expect(failed["error"]?["data"] != nil)
    }

    @Test("an upstream that crashes mid-call fails that call cleanly and serves the next after a restart")
    func upstreamCrash() throws {
        let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
        try plugboard.initialize()
        let crashed = try plugboard.request("tools/call", ["name": "alpha__crash", "arguments": [:]])
        #expect(crashed["error"]?["code"] == -32603)
        #expect(crashed["error"]?["message"]?.stringValue?.contains("alpha") == true)
        let echoed = try plugboard.request("tools/call", ["name": "alpha__echo", "arguments": ["text": "back"]])
        #expect(echoed.firstText == "back")
        let changed = try plugboard.waitFor("list_changed") { $0["method"] == "notifications/tools/list_changed" }
        #expect(changed["id"] == nil)
    }

    @Test("every supported protocol version is negotiated as asked, an unknown one gets the latest")
    func versionNegotiation() throws {
        for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
            let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
            let result = try plugboard.initialize(version: version)
            #expect(result["result"]?["protocolVersion"] == .string(version))
        }
        let plugboard = try PlugboardUnderTest(config: .demo(servers: ["alpha", "beta"]))
        let result = try plugboard.initialize(version: "1999-01-01")
        #expect(result["result"]?["protocolVersion"] == "2025-11-25")
    }

    @Test("closing stdin finishes in-flight calls, stops the upstreams and exits 0, writing only protocol to stdout")
    func cleanShutdownOnEOF() throws {
        let plugboard = try PlugboardUnderTest(config: .demo())
        try plugboard.initialize()
        try plugboard.send(["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["name": "slow", "arguments": ["ms": 500]]])
        plugboard.closeInput()
        let last = try plugboard.response(to: 9)
        #expect(last["result"] != nil)
        let status = plugboard.waitForExit(timeout: 10)
        #expect(status == .exited(0))
        for line in plugboard.stdoutLines {
            #expect((try? JSONParser.parse(Array(line.utf8))) != nil, "stdout carried a non-JSON line: \(line)")
        }
    }
}
