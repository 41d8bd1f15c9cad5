import Testing

@testable import Proxy

@Suite("every request a client sends ends exactly once, and the tally always adds up")
struct RequestLedgerTests {
    let a = Array("1".utf8)
    let b = Array("\"b\"".utf8)

    @Test("received is the requests open plus every ending, after any sequence of events")
    func balances() {
        var ledger = RequestLedger()
        let admissions = [
            ledger.receive(a, method: "tools/call", at: 10), ledger.receive(b, method: "ping", at: 10),
            ledger.receive(a, method: "tools/call", at: 11),
        ]
        #expect(admissions == [.opened, .opened, .duplicate])
        #expect(ledger.received == 3 && ledger.openCount == 2)
        let answered = ledger.answer(b, isError: false, at: 15)
        #expect(answered == .init(method: "ping", nanoseconds: 5, isError: false))
        let cancelled = ledger.cancel(a)
        let cancelledAgain = ledger.cancel(a)
        #expect(cancelled)
        #expect(!cancelledAgain, "an ended request cannot end twice")
        let late = ledger.answer(a, isError: true, at: 20)
        #expect(late == nil, "nor be answered after it was cancelled")
        #expect(ledger.tally == .init(answeredOK: 1, answeredError: 0, cancelled: 1, abandoned: 0, duplicate: 1))
        #expect(ledger.received == ledger.openCount + ledger.tally.ended)
    }

    @Test("a departing client's open requests end as abandoned; an id may be reused once its request ended")
    func abandonment() {
        var ledger = RequestLedger()
        _ = ledger.receive(a, method: "tools/call", at: 0)
        _ = ledger.receive(b, method: "tools/call", at: 0)
        _ = ledger.answer(a, isError: false, at: 1)
        let reused = ledger.receive(a, method: "tools/call", at: 2)
        let abandoned = ledger.abandonAll()
        #expect(reused == .opened)
        #expect(abandoned == 2)
        #expect(ledger.openCount == 0 && ledger.tally.abandoned == 2 && ledger.received == 3)
    }
}
