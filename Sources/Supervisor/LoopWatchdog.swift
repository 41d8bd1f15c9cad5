import Foundation
import IO
import Logging
import Synchronization

/// Notices when the event loop stops turning (a handler that blocks, an endless loop): a thread
/// posts a probe to the loop every second and complains when one waits longer than `threshold`.
/// Everything the proxy does runs on that loop, so a stall means no call is being served.
final class LoopWatchdog: Sendable {
    private let loop: EventLoop
    private let log: Logger
    private let threshold: UInt64
    /// When the oldest unanswered probe was posted (0: none outstanding).
    private let outstandingSince = Atomic<UInt64>(0)
    private let stalls = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)

    init(loop: EventLoop, log: Logger, threshold: UInt64 = 2_000_000_000) {
        self.loop = loop
        self.log = log.tagged("watchdog")
        self.threshold = threshold
    }

    var stallCount: Int { stalls.load(ordering: .relaxed) }

    func start() {
        let thread = Thread { [self] in watch() }
        thread.name = "loop watchdog"
        thread.stackSize = 128 * 1024
        thread.start()
    }

    func stop() { running.store(false, ordering: .relaxed) }

    private func watch() {
        var reported = false
        while running.load(ordering: .relaxed) {
            let now = EventLoop.now()
            let since = outstandingSince.load(ordering: .acquiring)
            if since == 0 {
                outstandingSince.store(now, ordering: .releasing)
                loop.execute { [self] in outstandingSince.store(0, ordering: .releasing) }
                reported = false
            } else if now - since > threshold && !reported {
                reported = true
                stalls.add(1, ordering: .relaxed)
                log.error("the event loop has not turned for \((now - since) / 1_000_000) ms; no call is being served meanwhile")
            }
            usleep(500_000)
        }
    }
}
