import JSON
import JSONRPC
import Testing

@testable import Proxy

@Suite("the core routes calls through fake upstreams, on a hand-driven loop")
struct ProxyCoreTests {
    @Test("initialize is answered with the upstream's capabilities once it has settled")
    func initializeWaitsForTheUpstream() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        #expect(client.answer(to: .string("init")) == nil, "nothing is answered before the loop turns")
        harness.settle()
        let result = try #require(client.answer(to: .string("init"))?["result"])
        #expect(result["serverInfo"]?["name"] == "demo")
        #expect(client.session.phase == .ready)
    }

    @Test("a call goes upstream under the proxy's own id and comes back under the client's")
    func idsAreMappedBothWays() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.string("call-1"), "tools/call", ["name": "echo", "arguments": ["text": "hi"]])
        harness.settle()
        let upstream = harness.upstream()
        let forwarded = try #require(upstream.requests.first)
        #expect(forwarded["id"]?.int64Value != nil, "the upstream sees a number of the proxy's choosing")
        upstream.answer("tools/call", result: ["content": [["type": "text", "text": "hi"]]])
        harness.settle()
        let answer = try #require(client.answer(to: .string("call-1")))
        #expect(answer["result"]?["content"]?[0]?["text"] == "hi")
        let accounting = harness.accounting
        #expect(accounting.received == 2 && accounting.answeredOK == 2 && accounting.unanswered == 0)
    }

    @Test("a call the upstream never answers fails at its timeout, under the client's id, and is cancelled upstream")
    func silentUpstreamTimesOut() throws {
        let harness = try CoreHarness(servers: ["demo": "request_timeout = \"5s\""])
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(7), "tools/call", ["name": "slow"])
        harness.advance(seconds: 4.9)
        #expect(client.answer(to: .number(7)) == nil)
        harness.advance(seconds: 0.3)
        let error = try #require(client.answer(to: .number(7))?["error"])
        #expect(error["message"]?.stringValue?.contains("did not answer") == true, "\(error)")
        #expect(harness.upstream().notifications.contains { $0["method"] == "notifications/cancelled" })
        #expect(harness.accounting.answeredError == 1)
    }

    @Test("a cancelled call ends as cancelled, is never answered, and the upstream is told")
    func cancellationSettlesTheAccounting() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/call", ["name": "slow"])
        harness.settle()
        client.send(JSONRPCMessage.notification(method: "notifications/cancelled", params: ["requestId": 1, "reason": "user"]))
        harness.settle()
        let cancel = try #require(harness.upstream().notifications.first { $0["method"] == "notifications/cancelled" })
        #expect(cancel["params"]?["reason"] == "user")
        harness.upstream().answer("tools/call", result: ["content": []])
        harness.settle()
        #expect(client.answer(to: .number(1)) == nil, "the spec has a cancelled request go unanswered")
        let accounting = harness.accounting
        #expect(accounting.cancelled == 1 && accounting.unanswered == 0)
        #expect(accounting.received == accounting.answeredOK + accounting.answeredError + accounting.cancelled)
    }

    @Test("a second request under an id in flight is refused; the first keeps its id and its answer")
    func duplicateIDsAreRefused() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(3), "tools/call", ["name": "first"])
        client.request(.number(3), "tools/call", ["name": "second"])
        harness.settle()
        let refusal = try #require(client.answer(to: .number(3)))
        #expect(refusal["error"]?["code"] == -32600)
        #expect(harness.upstream().requests.count == 1)
        harness.upstream().answer("tools/call", result: ["content": []])
        harness.settle()
        #expect(client.messages.filter { $0["id"] == 3 }.count == 2)
        #expect(harness.accounting.duplicateIDs == 1 && harness.accounting.answeredOK == 2)
    }

    @Test("progress from the upstream reaches the client under the client's own token")
    func progressIsRoutedBack() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(5), "tools/call", ["name": "long", "_meta": ["progressToken": "mine"]])
        harness.settle()
        let upstream = harness.upstream()
        let token = try #require(upstream.requests.first?["params"]?["_meta"]?["progressToken"])
        #expect(token != "mine", "the upstream gets a token unique across clients")
        upstream.deliver(JSONRPCMessage.notification(method: "notifications/progress", params: ["progressToken": token, "progress": 1, "total": 2]))
        harness.settle()
        let progress = try #require(client.notifications("notifications/progress").first)
        #expect(progress["params"]?["progressToken"] == "mine")
        #expect(progress["params"]?["progress"] == 1)
    }

    @Test("an upstream that exits fails its calls at once, and calls while it is down fail fast with the cause")
    func exitedUpstreamFailsFast() throws {
        let harness = try CoreHarness(servers: ["demo": "restart_backoff_initial = \"4s\"\nrestart_backoff_max = \"4s\""])
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/call", ["name": "x"])
        harness.settle()
        harness.upstream().exit("exit status 3")
        harness.settle()
        let failed = try #require(client.answer(to: .number(1))?["error"]?["message"]?.stringValue)
        #expect(failed.contains("exit status 3"), "\(failed)")

        // It was ready before, so the next call waits for the restart rather than failing.
        client.request(.number(2), "tools/call", ["name": "x"])
        harness.advance(seconds: 4)
        #expect(harness.links["demo"]?.count == 2, "restarted after its backoff")
        harness.upstream().answer("tools/call", result: ["content": []])
        harness.settle()
        #expect(client.answer(to: .number(2))?["result"] != nil)
    }

    @Test("a server that cannot start does not hold initialize: it is answered at once with the cause")
    func neverReadyServerFailsFast() throws {
        let harness = try CoreHarness(servers: ["demo": "restart_backoff_initial = \"4s\"\nrestart_backoff_max = \"4s\""])
        harness.upstream().exit("could not start: /nonexistent: No such file or directory")
        harness.settle()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        let message = try #require(client.answer(to: .string("init"))?["error"]?["message"]?.stringValue)
        #expect(message.contains("No such file or directory"), "\(message)")
        harness.advance(seconds: 4)
        #expect(harness.links["demo"]?.count == 2, "tried again after its backoff")
    }

    @Test("while a server fails to come back, its calls fail at once with the cause and the next attempt")
    func downServerFailsCallsFast() throws {
        let harness = try CoreHarness(servers: ["demo": "restart_backoff_initial = \"4s\"\nrestart_backoff_max = \"4s\""])
        let client = harness.connect()
        client.initialize()
        harness.settle()
        harness.startFailures["demo"] = "could not start: /nonexistent: No such file or directory"
        harness.upstream().exit("exit status 1")
        harness.settle()
        harness.advance(seconds: 4)
        #expect(harness.links["demo"]?.count == 2)
        client.request(.number(9), "tools/call", ["name": "x"])
        harness.settle()
        let message = try #require(client.answer(to: .number(9))?["error"]?["message"]?.stringValue)
        #expect(message.contains("is not running: ") && message.contains("/nonexistent: No such file or directory"), "\(message)")
        #expect(message.contains("next attempt in 4 s"), "\(message)")
    }

    @Test("an upstream that stops answering health checks is ended after three and restarted")
    func unhealthyUpstreamIsRestarted() throws {
        let harness = try CoreHarness(servers: [
            "demo": "health_check_interval = \"10s\"\nhealth_check_timeout = \"2s\"\nrestart_backoff_initial = \"1s\"",
        ])
        let client = harness.connect()
        client.initialize()
        harness.settle()
        let first = harness.upstream()
        for round in 1...3 {
            harness.advance(seconds: 10)
            #expect(first.requests.filter { $0["method"] == "ping" }.count == round, "ping \(round) was sent")
            harness.advance(seconds: 2.2)
        }
        #expect(first.closedBy == "aborted", "three missed pings end it")
        harness.advance(seconds: 1.1)
        #expect(harness.links["demo"]?.count == 2, "and it is started again")
        #expect(harness.core.status.upstreams.first?.restarts == 1)
    }

    @Test("a JSON-RPC batch is served at 2025-03-26, its answers returned as one array, and refused at later revisions")
    func batchesFollowTheRevision() throws {
        let harness = try CoreHarness()
        let old = harness.connect("old")
        old.initialize(version: "2025-03-26")
        harness.settle()
        old.send(Array(#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#.utf8))
        harness.settle()
        harness.upstream().answer("tools/call", result: ["content": []])
        harness.settle()
        let batch = try #require(old.messages.last?.arrayValue)
        #expect(Set(batch.compactMap { $0["id"]?.int64Value }) == [1, 2])

        let later = try CoreHarness()
        let current = later.connect("current")
        current.initialize(version: "2025-06-18")
        later.settle()
        current.send(Array(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#.utf8))
        later.settle()
        #expect(current.messages.last?["error"]?["code"] == -32600)
    }

    @Test("an integer id beyond 64 bits comes back exactly as it was sent")
    func hugeIDsAreEchoed() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.send(Array(#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#.utf8))
        harness.settle()
        let answer = try #require(client.messages.last)
        #expect(answer["id"]?.serializedString == "123456789012345678901234567890")
        #expect(answer["result"] != nil)
    }

    @Test("an answer the proxy cannot read fails its call at once with the cause, not at the timeout")
    func unreadableAnswerFailsAtOnce() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(4), "tools/call", ["name": "x"])
        harness.settle()
        let id = try #require(harness.upstream().requests.first?["id"]?.int64Value)
        harness.upstream().deliver(Array(#"{"jsonrpc":"2.0","id":\#(id),"result":{"content":[}"#.utf8))
        harness.settle()
        let message = try #require(client.answer(to: .number(4))?["error"]?["message"]?.stringValue)
        #expect(message.contains("not valid JSON-RPC"), "\(message)")
    }

    @Test("a client that leaves with calls in flight has them cancelled upstream and counted as abandoned")
    func departedClientsCallsAreAbandoned() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/call", ["name": "a"])
        client.request(.number(2), "tools/call", ["name": "b"])
        harness.settle()
        harness.core.closeSession(client.session, reason: "test")
        harness.settle()
        #expect(harness.upstream().notifications.filter { $0["method"] == "notifications/cancelled" }.count == 2)
        let accounting = harness.accounting
        #expect(accounting.abandoned == 2 && accounting.unanswered == 0 && accounting.received == 3)
    }

    @Test("shutdown waits for the call in flight, refuses new ones, then stops the upstream: told by callbacks")
    func drainCompletesByCallback() throws {
        let harness = try CoreHarness()
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/call", ["name": "a"])
        harness.settle()
        var drained = false
        var settled = false
        harness.core.beginDrain()
        harness.core.whenRequestsSettled { settled = true }
        harness.core.whenDrained { drained = true }
        client.request(.number(2), "tools/call", ["name": "late"])
        harness.settle()
        #expect(client.answer(to: .number(2))?["error"] != nil, "new calls are refused while draining")
        #expect(!settled && !drained)
        #expect(harness.upstream().isOpen)

        harness.upstream().answer("tools/call", result: ["content": []])
        harness.settle()
        #expect(client.answer(to: .number(1))?["result"] != nil)
        #expect(settled, "the last answer lets the frontends flush")
        #expect(harness.upstream().closedBy == "closed", "the upstream is closed politely")
        #expect(drained)
    }

    @Test("at the shutdown deadline the calls left are failed with errors, never dropped")
    func drainDeadlineFailsWhatIsLeft() throws {
        let harness = try CoreHarness(limits: "shutdown_timeout = \"2s\"")
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/call", ["name": "stuck"])
        harness.settle()
        var drained = false
        harness.core.beginDrain()
        harness.core.whenDrained { drained = true }
        harness.advance(seconds: 1.9)
        #expect(client.answer(to: .number(1)) == nil && !drained)
        harness.advance(seconds: 0.2)
        #expect(client.answer(to: .number(1))?["error"] != nil)
        #expect(drained)
        #expect(harness.accounting.unanswered == 0)
    }

    @Test("aggregated servers' tools are listed under reversible prefixes and calls reach their owner")
    func aggregatedRouting() throws {
        let harness = try CoreHarness(servers: ["alpha": "", "beta": ""])
        let client = harness.connect()
        client.initialize()
        harness.settle()
        client.request(.number(1), "tools/list")
        harness.settle()
        harness.upstream("alpha").answer("tools/list", result: ["tools": [["name": "read", "inputSchema": ["type": "object"]]]])
        harness.upstream("beta").answer("tools/list", result: ["tools": [["name": "read", "inputSchema": ["type": "object"]]]])
        harness.settle()
        let names = try #require(client.answer(to: .number(1))?["result"]?["tools"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        #expect(Set(names) == ["alpha__read", "beta__read"])
        client.request(.number(2), "tools/call", ["name": "beta__read", "arguments": [:]])
        harness.settle()
        #expect(harness.upstream("alpha").requests.isEmpty)
        #expect(harness.upstream("beta").requests.first?["params"]?["name"] == "read")
    }
}
