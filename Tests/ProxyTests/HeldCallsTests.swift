import JSON
import Testing

@testable import Proxy

@Suite("a legacy server's mid-call request becomes a held call a modern client resumes")
struct HeldCallsTests {
    let key = HeldCalls.Key(server: "legacy", upstreamID: 7)
    let meta = RequestMeta(protocolVersion: "2026-07-28", clientCapabilities: ["elicitation": [:]], clientInfo: nil)
    let params: JSONValue = ["name": "ask_name"]
    let session = ClientSession(label: "test", metrics: RequestMetrics(), deliver: { _ in })
    let minute: UInt64 = 60_000_000_000

    func elicitation(_ id: String) -> (upstreamIDText: [UInt8], method: String, params: JSONValue?) {
        (Array(id.utf8), "elicitation/create", ["message": "name?"])
    }

    func hold(_ calls: inout HeldCalls, now: UInt64 = 0) -> String {
        let action = calls.inputArrived(elicitation("1"), for: key, caller: ([1, 2, 3], meta, params), now: now, timeout: minute)
        guard case .askClient(let inputs, let nonce, let expiresAt, let resumedFor) = action else {
            Issue.record("expected the client to be asked")
            return ""
        }
        #expect(inputs.map(\.key) == ["input-1"])
        #expect(expiresAt == now + minute)
        #expect(resumedFor == nil)
        return nonce
    }

    @Test("the first input asks the client; a second one before the retry waits for it")
    func firstInputAsks() {
        var calls = HeldCalls()
        _ = hold(&calls)
        let second = calls.inputArrived(elicitation("2"), for: key, caller: nil, now: 1, timeout: minute)
        guard case .queued = second else { Issue.record("a second input should wait for the retry"); return }
        #expect(calls.calls[key]?.inputs.count == 2)
    }

    @Test("a retry with every answer resumes the call for the retry's request, and the server's answer goes there")
    func retryResumes() {
        var calls = HeldCalls()
        let nonce = hold(&calls)
        let outcome = calls.retry(nonce: nonce, responses: ["input-1": ["action": "accept"]], session: session, idText: Array("9".utf8), now: 5, timeout: minute)
        guard case .accepted(let resumedKey, let answers, let askAgain, let finalReply) = outcome else { Issue.record("retry refused"); return }
        #expect(resumedKey == key)
        #expect(answers.map(\.0.upstreamIDText) == [Array("1".utf8)])
        #expect(askAgain == nil && finalReply == nil)
        guard case .deliver(let to, let idText) = calls.upstreamReplied(key, .failed(.shuttingDown(method: "x"))) else {
            Issue.record("the reply should go to the retry"); return
        }
        #expect(to === session && idText == Array("9".utf8))
        #expect(calls.count == 0)
    }

    @Test("a retry that answers only some inputs is asked again for the rest, under a new nonce")
    func partialRetry() {
        var calls = HeldCalls()
        let nonce = hold(&calls)
        _ = calls.inputArrived(elicitation("2"), for: key, caller: nil, now: 1, timeout: minute)
        let outcome = calls.retry(nonce: nonce, responses: ["input-1": ["action": "accept"]], session: session, idText: [57], now: 5, timeout: minute)
        guard case .accepted(_, let answers, let askAgain?, _) = outcome else { Issue.record("expected to ask again"); return }
        #expect(answers.count == 1)
        #expect(askAgain.inputs.map(\.key) == ["input-2"])
        #expect(askAgain.nonce != nonce)
    }

    @Test("a nonce works once: the replay of a used requestState is refused")
    func replayRefused() {
        var calls = HeldCalls()
        let nonce = hold(&calls)
        _ = calls.retry(nonce: nonce, responses: ["input-1": [:]], session: session, idText: [57], now: 5, timeout: minute)
        guard case .rejected = calls.retry(nonce: nonce, responses: ["input-1": [:]], session: session, idText: [58], now: 6, timeout: minute) else {
            Issue.record("a replay must be refused"); return
        }
    }

    @Test("a server that answers before the client retries has its answer kept for the retry")
    func answerBeforeRetry() {
        var calls = HeldCalls()
        let nonce = hold(&calls)
        guard case .stashed = calls.upstreamReplied(key, .failed(.shuttingDown(method: "x"))) else { Issue.record("expected a stash"); return }
        guard case .accepted(_, _, nil, let finalReply?) = calls.retry(nonce: nonce, responses: [:], session: session, idText: [57], now: 1, timeout: minute) else {
            Issue.record("the retry should get the kept answer"); return
        }
        guard case .failed = finalReply else { Issue.record("wrong reply"); return }
        #expect(calls.count == 0)
    }

    @Test("a call whose client never retries expires at its deadline, not before, and is counted")
    func expiry() {
        var calls = HeldCalls()
        _ = hold(&calls, now: 100)
        #expect(calls.expire(now: 100 + minute - 1).isEmpty)
        let expired = calls.expire(now: 100 + minute)
        #expect(expired.map(\.0) == [key])
        #expect(expired.first?.1.inputs.count == 1)
        #expect(calls.count == 0 && calls.expiredCount == 1)
    }

    @Test("a resumed call that asks again goes to the client of the retry")
    func resumedAsksAgain() {
        var calls = HeldCalls()
        let nonce = hold(&calls)
        _ = calls.retry(nonce: nonce, responses: ["input-1": [:]], session: session, idText: [57], now: 1, timeout: minute)
        guard case .askClient(let inputs, _, _, let resumedFor?) = calls.inputArrived(elicitation("3"), for: key, caller: nil, now: 2, timeout: minute) else {
            Issue.record("expected to ask the retry's client"); return
        }
        #expect(inputs.map(\.key) == ["input-2"])
        #expect(resumedFor.session === session && resumedFor.idText == [57])
    }
}
