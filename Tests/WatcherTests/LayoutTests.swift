import Foundation
import Glibc
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    /// The shapes plugboard's directories come in.
    @Suite struct Layouts {
        @Test("the config layout (etc/*.toml plus etc/conf.d/*.toml as two roots) reports each file once")
        func configDirectories() throws {
            try withHarness { harness in
                harness.mkdir("etc")
                harness.mkdir("etc/conf.d")
                harness.write("etc/plugboard.toml", "a = 1\n")
                harness.write("etc/conf.d/one.toml", "b = 1\n")
                let etc = harness.path("etc"), confD = harness.path("etc/conf.d")
                try harness.start([
                    WatchedRoot(path: etc, recursive: false, include: WatchedRoot.suffixes(".toml")),
                    WatchedRoot(path: confD, recursive: false, include: WatchedRoot.suffixes(".toml")),
                ])
                let both = harness.expectExactlyOneChange {
                    harness.write("etc/plugboard.toml", "a = 2\n")
                    harness.write("etc/conf.d/two.toml", "c = 1\n")
                    harness.write("etc/conf.d/README", "not toml\n")
                }
                #expect(both == ChangeSet(added: [confD + "/two.toml"], modified: [etc + "/plugboard.toml"]))
                let gone = harness.expectExactlyOneChange { harness.sh("rm -rf etc/conf.d") }
                #expect(gone == ChangeSet(removed: [confD + "/one.toml", confD + "/two.toml"]))
                let back = harness.expectExactlyOneChange { harness.sh("mkdir etc/conf.d && echo 'd = 1' > etc/conf.d/three.toml") }
                #expect(back == ChangeSet(added: [confD + "/three.toml"]))
                let edited = harness.expectExactlyOneChange { harness.write("etc/conf.d/three.toml", "d = 2\n") }
                #expect(edited == ChangeSet(modified: [confD + "/three.toml"]))
            }
        }

        @Test("a root that is a symbolic link, pointed at another directory, reports the difference once")
        func symlinkedRoot() throws {
            try withHarness { harness in
                harness.sh(
                    "mkdir v1 v2 && echo same > v1/same.js && echo same > v2/same.js && echo 1 > v1/x.js "
                        + "&& echo 2 > v2/x.js && echo old > v1/old.js && ln -s v1 plugins.d")
                let root = harness.path("plugins.d")
                try harness.start([WatchedRoot(path: root, recursive: true)])
                let swapped = harness.expectExactlyOneChange { harness.sh("ln -s v2 next && mv -T next plugins.d") }
                #expect(swapped == ChangeSet(modified: [root + "/x.js"], removed: [root + "/old.js"]))
                let edited = harness.expectExactlyOneChange { harness.write("v2/x.js", "3\n") }
                #expect(edited == ChangeSet(modified: [root + "/x.js"]))
                harness.expectNoChange { harness.write("v1/x.js", "no longer watched\n") }
            }
        }

        @Test("rescanAll reports what changed while events were not looked at")
        func explicitRescan() throws {
            try withHarness { harness in
                harness.mkdir("root")
                harness.write("root/a.js", "a\n")
                let root = harness.path("root")
                try harness.start([WatchedRoot(path: root, recursive: true)])
                let set = harness.expectExactlyOneChange {
                    harness.withWatcher { watcher in
                        // Written and rescanned within one loop turn: no event has been read yet.
                        let descriptor = open(root + "/a.js", O_WRONLY | O_TRUNC)
                        _ = "b\n".withCString { Glibc.write(descriptor, $0, 2) }
                        close(descriptor)
                        watcher.rescanAll()
                    }
                }
                #expect(set == ChangeSet(modified: [root + "/a.js"]))
                #expect(harness.counters.rescans == 1)
            }
        }
    }
}
