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
        let watchdog = LoopWatchdog(loop: loop, log: quiet, threshold: 300_000_000)
        watchdog.start()
        Thread.sleep(forTimeInterval: 1.2)
        #expect(watchdog.stallCount == 0)
        loop.execute { usleep(1_500_000) }
        Thread.sleep(forTimeInterval: 2.5)
        #expect(watchdog.stallCount == 1)
        watchdog.stop()
        loop.stop()
    }
}
