import IO
import Testing

@Suite("when the event loop polls before it sleeps")
struct SpinPolicyTests {
    @Test("a loop whose gaps fit in the window keeps spinning")
    func shortGaps() {
        var policy = SpinPolicy(window: 50_000)
        #expect(policy.shouldSpin)
        for _ in 0..<100 { policy.gapEnded(after: 20_000) }
        #expect(policy.shouldSpin)
    }

    @Test("when every other gap outlasts the window (an asyncio client between calls), it sleeps at once")
    func alternatingGaps() {
        var policy = SpinPolicy(window: 50_000)
        for _ in 0..<20 {
            policy.gapEnded(after: 30_000)
            policy.gapEnded(after: 180_000)
        }
        #expect(!policy.shouldSpin)
    }

    @Test("a few long gaps among short ones do not stop it; once gaps shorten again, it spins again")
    func recovery() {
        var policy = SpinPolicy(window: 50_000)
        for round in 0..<40 { policy.gapEnded(after: round % 8 == 0 ? 500_000 : 10_000) }
        #expect(policy.shouldSpin, "one long gap in eight")
        for _ in 0..<20 { policy.gapEnded(after: 1_000_000) }
        #expect(!policy.shouldSpin)
        for _ in 0..<20 { policy.gapEnded(after: 5_000) }
        #expect(policy.shouldSpin)
    }

    @Test("a zero window never spins")
    func disabled() {
        var policy = SpinPolicy(window: 0)
        for _ in 0..<10 { policy.gapEnded(after: 1) }
        #expect(!policy.shouldSpin)
    }
}
