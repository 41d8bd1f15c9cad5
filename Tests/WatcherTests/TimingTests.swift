import Foundation
import Glibc
import IO
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    /// When change sets come: after a burst settles, within the ceiling, after handling.
    @Suite struct Timing {
        @Test("a file written every 20 ms still yields a change set within about a second of the first write")
        func continuousWrites() throws {
            try withHarness { harness in
                harness.mkdir("root")
                harness.write("root/log.txt", "")
                try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)])
                let descriptor = open(harness.path("root/log.txt"), O_WRONLY | O_APPEND)
                defer { close(descriptor) }
                let first = EventLoop.now()
                while EventLoop.now() - first < 2_000_000_000 {
                    harness.writeAll(descriptor, "line\n")
                    usleep(20_000)
                }
                harness.waitForChangeSets(1)
                let delay = harness.arrivalTimes.first.map { Double($0 - first) / 1e9 }
                #expect(delay != nil && delay! < 1.25, "first change set after \(delay ?? -1) s")
                let sets = harness.settle()
                #expect(sets.allSatisfy { $0 == ChangeSet(modified: [harness.path("root/log.txt")]) })
            }
        }

        @Test("changes made while the previous change set is being handled yield exactly one follow-up")
        func changeDuringHandling() throws {
            try withHarness { harness in
                harness.mkdir("root")
                harness.write("root/x.toml", "v = 1\n")
                try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)], holdWhileHandling: true)
                harness.write("root/x.toml", "v = 2\n")
                #expect(harness.waitForChangeSets(1).count == 1)
                // Two separate bursts while the first set is being handled.
                harness.write("root/x.toml", "v = 3\n")
                _ = harness.settle(quiet: 0.2)
                harness.write("root/y.toml", "w = 1\n")
                #expect(harness.settle(quiet: 0.3).count == 1, "held while handling")
                harness.withWatcher { $0.endHandling() }
                harness.waitForChangeSets(2)
                let sets = harness.settle()
                #expect(sets.count == 2)
                #expect(sets.last == ChangeSet(added: [harness.path("root/y.toml")], modified: [harness.path("root/x.toml")]))
                // Handling that saw no change ends with nothing further.
                harness.withWatcher { $0.endHandling() }
                #expect(harness.settle().count == 2)
            }
        }
    }
}
