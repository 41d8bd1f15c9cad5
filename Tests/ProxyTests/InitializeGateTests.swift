import Testing

@testable import Proxy

@Suite("requests wait at the gate until every upstream has settled")
struct InitializeGateTests {
    @Test("the gate opens when the last upstream settles, letting the waiting through once")
    func opensOnTheLastSettlement() {
        var gate = InitializeGate(servers: ["a", "b"])
        var ran: [String] = []
        let started = gate.start(with: ["protocolVersion": "2025-06-18"])
        let startedAgain = gate.start(with: ["protocolVersion": "2025-03-26"])
        #expect(started && !startedAgain, "the first client's parameters stand")
        let passedAtOnce = gate.admit { ran.append("first") }
        #expect(!passedAtOnce)
        #expect(gate.settle("a").isEmpty)
        for waiter in gate.settle("b") { waiter() }
        #expect(ran == ["first"])
        let later = gate.admit { ran.append("later") }
        #expect(gate.isOpen && later, "an open gate lets requests pass at once")
        #expect(gate.waitingCount == 0)
    }

    @Test("the grace lets waiting requests go while the gate stays shut for the next")
    func graceReleasesWithoutOpening() {
        var gate = InitializeGate(servers: ["slow"])
        _ = gate.admit {}
        #expect(gate.releaseWaiting().count == 1)
        let next = gate.admit {}
        #expect(!gate.isOpen && !next)
    }

    @Test("a reload that adds a server shuts the gate until it settles")
    func reloadAddsAServer() {
        var gate = InitializeGate(servers: ["a"])
        _ = gate.settle("a")
        #expect(gate.isOpen)
        #expect(gate.serve(["a", "new"]).isEmpty)
        #expect(!gate.isOpen)
        _ = gate.settle("new")
        #expect(gate.isOpen)
    }
}
