import Foundation
import IO
import Logging
import Testing

@testable import Supervisor

@Suite("the event-loop watchdog")
struct LoopWatchdogTests {
    @Test("a loop blocked longer than the threshold is reported once; a turning loop never is")
    func stallIsNoticed() throws {
        let loop = EventLoop()
        let thread = Thread { loop.run() }
        thread.start()
        let quiet = Logger(component: "test", output: LogOutput(descriptor: -1))
        // A threshold well above what a loaded 2-core machine delays a turning loop by.
        let watchdog = LoopWatchdog(loop: loop, log: quiet, threshold: 1_000_000_000)
        watchdog.start()
        Thread.sleep(forTimeInterval: 1.5)
        #expect(watchdog.stallCount == 0)
        loop.execute { usleep(3_000_000) }
        Thread.sleep(forTimeInterval: 4.0)
        #expect(watchdog.stallCount == 1)
        watchdog.stop()
        loop.stop()
    }
}
