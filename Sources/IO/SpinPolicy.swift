/// Whether the event loop polls for a while before it sleeps, learned from how its recent
/// polls went.
///
/// Polling pays when the next event comes within the window: the wake-up of a sleeping thread
/// is saved, tens of microseconds on a VM. A window that runs out is CPU taken from the client
/// and the server on the same cores. A lean client that answers at once makes most polls find
/// their event; an asyncio client (the SDK's) takes longer than the window between an answer
/// and its next request, so every other poll would run out. The loop polls while most recent
/// polls found an event, and otherwise only one wait in `probeEvery`, to learn whether they
/// would now. Only polls teach it: a gap measured through a sleep includes the wake-up.
public struct SpinPolicy: Sendable, Equatable {
    /// The longest the loop polls.
    public let window: UInt64
    /// Of recent polls, the share that found an event, in 1/1024ths (a moving average that
    /// weighs each new poll 1/8).
    public private(set) var foundShare: Int
    private var waitsSincePoll = 0

    /// Polling needs at least this share of polls that found an event: at 3/4, the wasted
    /// windows cost less than a third of the wake-ups saved.
    public static let threshold = 768
    public static let probeEvery = 16

    public init(window: UInt64) {
        self.window = window
        foundShare = window > 0 ? 1024 : 0
    }

    /// Whether the wait about to start polls first.
    public mutating func pollsThisWait() -> Bool {
        guard window > 0 else { return false }
        if foundShare >= Self.threshold { return true }
        waitsSincePoll += 1
        guard waitsSincePoll >= Self.probeEvery else { return false }
        waitsSincePoll = 0
        return true
    }

    /// A poll ended, having found an event within the window or not.
    public mutating func polled(foundEvent: Bool) {
        foundShare += ((foundEvent ? 1024 : 0) - foundShare) / 8
    }
}
