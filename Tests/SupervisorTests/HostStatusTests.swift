import JSON
import Testing
import Watcher

@testable import Supervisor

@Suite("what the outer process tells the core for its status")
struct HostStatusTests {
    @Test("restarts, the last cause, the time to recover and the watcher's counters survive the control channel")
    func roundTrip() throws {
        var watcher = WatcherCounters()
        watcher.watches = 4
        watcher.changeSets = 2
        let sent = HostStatus(
            restarts: 3, lastRestart: .init(cause: "it exited: killed by SIGKILL", at: "2026-12-03T12:00:00Z", recoveryMilliseconds: 212.5),
            watcher: watcher)
        let line = sent.message.serialized()
        let host = try #require(try JSONParser.parse(line)["host"]?.objectValue)
        #expect(HostStatus(host: host) == sent)
    }

    @Test("the status dump's core section names the restarts and leaves the watcher to its own section")
    func coreSection() {
        let status = HostStatus(restarts: 1, lastRestart: .init(cause: "it did not answer a health check", at: "t"), watcher: WatcherCounters())
        #expect(status.coreJSON["isolated"] == true)
        #expect(status.coreJSON["restarts"] == 1)
        #expect(status.coreJSON["lastRestart"]?["recoveryMilliseconds"] == .null)
        #expect(status.coreJSON["watcher"] == nil)
    }
}
