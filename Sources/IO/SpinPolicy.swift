/// Whether the event loop polls for a while before it sleeps, learned from how long its idle
/// gaps (from running out of work to the next event) have lately been.
///
/// Polling pays when the next event comes within the window: the wake-up of a sleeping thread
/// is saved, tens of microseconds on a VM. A window that runs out is CPU taken from the client
/// and the server on the same cores. A lean client that answers at once makes most gaps short;
/// an asyncio client (the SDK's) takes longer than the window between an answer and its next
/// request, so every other spin would be wasted. The loop spins only while most recent gaps
/// fitted in the window.
public struct SpinPolicy: Sendable, Equatable {
    /// The longest the loop polls.
    public let window: UInt64
    /// Of recent gaps, the share that fitted in the window, in 1/1024ths (a moving average
    /// that weighs each new gap 1/8).
    public private(set) var shortShare: Int

    /// Spinning needs at least this share of short gaps: at 3/4, the wasted windows cost less
    /// than a third of the time saved.
    public static let threshold = 768

    public init(window: UInt64) {
        self.window = window
        shortShare = window > 0 ? 1024 : 0
    }

    public var shouldSpin: Bool { window > 0 && shortShare >= Self.threshold }

    /// An idle gap ended with an event after `nanoseconds`.
    public mutating func gapEnded(after nanoseconds: UInt64) {
        guard window > 0 else { return }
        let sample = nanoseconds <= window ? 1024 : 0
        shortShare += (sample - shortShare) / 8
    }
}
