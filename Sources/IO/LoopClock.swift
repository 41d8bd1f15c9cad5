import Glibc
import Locking

/// Where an event loop reads the time: the monotonic clock, or one a test moves by hand so that
/// timeouts, backoffs and expiries fire exactly when the test says, never after a real wait.
public final class LoopClock: Sendable {
    private let manualNanoseconds: Locked<UInt64>?

    /// CLOCK_MONOTONIC, in nanoseconds.
    public static let monotonic = LoopClock(manualNanoseconds: nil)

    /// A clock that stands still until `advance(by:)`.
    public static func manual(startingAt nanoseconds: UInt64 = 1_000_000_000) -> LoopClock {
        LoopClock(manualNanoseconds: Locked(nanoseconds))
    }

    private init(manualNanoseconds: Locked<UInt64>?) {
        self.manualNanoseconds = manualNanoseconds
    }

    public var isManual: Bool { manualNanoseconds != nil }

    @inline(__always)
    public func now() -> UInt64 {
        guard let manualNanoseconds else { return Self.monotonicNow() }
        return manualNanoseconds.withLock { $0 }
    }

    /// Moves a manual clock forward; the loop runs what fell due on its next `runPending()`.
    public func advance(by nanoseconds: UInt64) {
        guard let manualNanoseconds else { preconditionFailure("only a manual clock can be advanced") }
        manualNanoseconds.withLock { $0 += nanoseconds }
    }

    @inline(__always)
    static func monotonicNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
