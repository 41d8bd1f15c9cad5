import Foundation
import Glibc
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    /// The watcher keeps seeing changes through overflows, vanished roots and new directories.
    @Suite struct Recovery {
        @Test("an inotify queue overflow leads to a rescan that still reports the change")
        func overflow() throws {
            try withHarness { harness in
                harness.mkdir("root")
                for name in ["a", "b", "c"] { harness.write("root/\(name).js", "\(name)\n") }
                try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)])
                let limit = WatcherError.inotifyLimit("max_queued_events") ?? 16384
                // Park the loop thread, so events pile up in the kernel's queue.
                let parked = DispatchSemaphore(value: 0), resume = DispatchSemaphore(value: 0)
                harness.loop.execute {
                    parked.signal()
                    resume.wait()
                }
                parked.wait()
                harness.write("root/c.js", "changed\n")
                // Create, close, delete: three events that differ from their predecessor, so the
                // kernel cannot merge them, on a name the watcher ignores.
                let flood = harness.path("root/flood~")
                for _ in 0..<(limit / 3 + 500) {
                    close(open(flood, O_WRONLY | O_CREAT, 0o644))
                    unlink(flood)
                }
                resume.signal()
                harness.waitForChangeSets(1)
                let sets = harness.settle()
                #expect(sets == [ChangeSet(modified: [harness.path("root/c.js")])])
                let counters = harness.counters
                #expect(counters.overflows >= 1, "\(counters)")
                #expect(counters.rescans >= 1, "\(counters)")
            }
        }

        @Test("a root deleted and re-created is watched again")
        func rootRecreated() throws {
            try withHarness { harness in
                harness.mkdir("plugins.d")
                harness.write("plugins.d/a.js", "a\n")
                let root = harness.path("plugins.d")
                try harness.start([WatchedRoot(path: root, recursive: true)])
                let gone = harness.expectExactlyOneChange { harness.sh("rm -rf plugins.d") }
                #expect(gone == ChangeSet(removed: [root + "/a.js"]))
                let back = harness.expectExactlyOneChange { harness.sh("mkdir plugins.d && echo b > plugins.d/b.js") }
                #expect(back == ChangeSet(added: [root + "/b.js"]))
                let edited = harness.expectExactlyOneChange { harness.write("plugins.d/b.js", "b2\n") }
                #expect(edited == ChangeSet(modified: [root + "/b.js"]))
            }
        }

        @Test("a root missing at start is picked up when it appears")
        func rootAppears() throws {
            try withHarness { harness in
                let root = harness.path("conf.d")
                try harness.start([WatchedRoot(path: root, recursive: true)])
                let appeared = harness.expectExactlyOneChange {
                    harness.sh("mkdir -p conf.d/sub && echo x > conf.d/sub/x.toml")
                }
                #expect(appeared == ChangeSet(added: [root + "/sub/x.toml"]))
                let edited = harness.expectExactlyOneChange { harness.write("conf.d/sub/x.toml", "y\n") }
                #expect(edited == ChangeSet(modified: [root + "/sub/x.toml"]))
            }
        }

        @Test("a new nested subdirectory with a file in it is seen, and watched from then on")
        func nestedDirectory() throws {
            try withHarness { harness in
                harness.mkdir("root")
                let root = harness.path("root")
                try harness.start([WatchedRoot(path: root, recursive: true)])
                let made = harness.expectExactlyOneChange { harness.sh("mkdir -p a/b && echo c > a/b/c.js", in: "root") }
                #expect(made == ChangeSet(added: [root + "/a/b/c.js"]))
                let edited = harness.expectExactlyOneChange { harness.write("root/a/b/c.js", "c2\n") }
                #expect(edited == ChangeSet(modified: [root + "/a/b/c.js"]))
                let moved = harness.expectExactlyOneChange { harness.sh("mv a z", in: "root") }
                #expect(moved == ChangeSet(added: [root + "/z/b/c.js"], removed: [root + "/a/b/c.js"]))
                let inMoved = harness.expectExactlyOneChange { harness.write("root/z/b/c.js", "c3\n") }
                #expect(inMoved == ChangeSet(modified: [root + "/z/b/c.js"]))
            }
        }
    }
}
