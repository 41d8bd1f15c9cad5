import JSON
import Testing

@testable import Supervisor

@Suite("the outer process knows which of the client's calls a core still owes")
struct RelayLedgerTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("a request is owed until a response under its id goes back; the core's own requests answer nothing")
    func owedUntilAnswered() {
        var ledger = RelayLedger()
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow"}}"#))
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","id":"b","method":"tools/list"}"#))
        ledger.coreSent(bytes(#"{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{}}"#))
        #expect(ledger.outstanding.count == 2, "a server request under the same number is not an answer")
        ledger.coreSent(bytes(#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#))
        ledger.coreSent(bytes(#"{"result":{},"jsonrpc":"2.0","id":"b"}"#))
        #expect(ledger.outstanding.isEmpty, "answers in any member order count")
    }

    @Test("a cancelled request is owed nothing; batches are read member by member")
    func cancellationsAndBatches() {
        var ledger = RelayLedger()
        ledger.clientSent(bytes(#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/call"}]"#))
        #expect(Set(ledger.outstanding.values) == ["ping", "tools/call"])
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}"#))
        ledger.coreSent(bytes(#"[{"jsonrpc":"2.0","id":1,"result":{}}]"#))
        #expect(ledger.outstanding.isEmpty)
    }

    @Test("when the core dies, each owed call gets an error under its own id, and an unanswered initialize is forgotten")
    func failOutstanding() throws {
        var ledger = RelayLedger()
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#))
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call"}"#))
        let errors = try ledger.failOutstanding(because: "it exited: killed by SIGKILL").map { try JSONParser.parse($0) }
        #expect(errors.map { $0["id"]?.serializedString } == ["1", "123456789012345678901234567890"])
        #expect(errors.allSatisfy { $0["error"]?["code"] == -32603 })
        #expect(errors[1]["error"]?["message"]?.stringValue?.contains("killed by SIGKILL") == true)
        #expect(ledger.initialize == nil, "the client was told its initialize failed: it will send another")
        #expect(ledger.outstanding.isEmpty)
    }

    @Test("an answered initialize is kept for the next core")
    func initializeIsKept() {
        var ledger = RelayLedger()
        let initialize = bytes(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#)
        ledger.clientSent(initialize)
        ledger.coreSent(bytes(#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}}"#))
        ledger.clientSent(bytes(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#))
        _ = ledger.failOutstanding(because: "x")
        #expect(ledger.initialize == initialize)
        #expect(ledger.sawInitialized)
    }
}
