import IO
import Testing

@Suite("when the event loop polls before it sleeps")
struct SpinPolicyTests {
    /// Runs `waits` waits; `found(i)` says whether the i-th poll would find its event in time.
    /// Returns how many of the waits polled.
    static func run(_ policy: inout SpinPolicy, waits: Int, found: (Int) -> Bool) -> Int {
        var polls = 0
        for index in 0..<waits where policy.pollsThisWait() {
            polls += 1
            policy.polled(foundEvent: found(index))
        }
        return polls
    }

    @Test("a loop whose polls find their event keeps polling every wait")
    func fastPeers() {
        var policy = SpinPolicy(window: 50_000)
        #expect(Self.run(&policy, waits: 100) { _ in true } == 100)
    }

    @Test("when every other poll runs out (an asyncio client between calls), it polls only to probe")
    func alternating() {
        var policy = SpinPolicy(window: 50_000)
        let polls = Self.run(&policy, waits: 1600) { $0 % 2 == 0 }
        #expect(polls < 1600 / 4, "\(polls) polls in 1600 waits")
    }

    @Test("one poll in eight running out does not stop it; a slow spell does; fast peers bring it back")
    func recovery() {
        var policy = SpinPolicy(window: 50_000)
        #expect(Self.run(&policy, waits: 80) { $0 % 8 != 0 } == 80)
        _ = Self.run(&policy, waits: 40) { _ in false }
        #expect(Self.run(&policy, waits: 32) { _ in false } == 2, "one wait in 16 probes")
        _ = Self.run(&policy, waits: 400) { _ in true }
        #expect(Self.run(&policy, waits: 10) { _ in true } == 10)
    }

    @Test("a zero window never polls")
    func disabled() {
        var policy = SpinPolicy(window: 0)
        #expect(Self.run(&policy, waits: 100) { _ in true } == 0)
    }
}
