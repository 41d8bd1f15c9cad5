import Foundation
import Glibc
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    /// Activity that changes no file's content reports nothing.
    @Suite struct NoContentChange {
        @Test("saving identical bytes, touch and chmod trigger no change set")
        func sameBytes() throws {
            try withHarness { harness in
                harness.mkdir("root")
                harness.write("root/x.toml", "same\n")
                try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)])
                harness.expectNoChange {
                    harness.write("root/x.toml", "same\n")
                    harness.sh("printf 'same\\n' > root/.tmp && mv root/.tmp root/x.toml")
                    harness.sh("touch root/x.toml && chmod 600 root/x.toml && chmod 644 root/x.toml")
                    harness.sh("sed -i 's/nothing/else/' root/x.toml")
                }
                #expect(harness.counters.changeSets == 0)
                #expect(harness.counters.events > 0)
            }
        }

        @Test("editor temporary files alone, and files the filter excludes, trigger no change set")
        func temporaryFiles() throws {
            try withHarness { harness in
                harness.mkdir("etc")
                harness.write("etc/x.toml", "a = 1\n")
                try harness.start([
                    WatchedRoot(path: harness.path("etc"), recursive: false, include: WatchedRoot.suffixes(".toml"))
                ])
                harness.expectNoChange {
                    for name in ["4913", "x.toml~", ".x.toml.swp", ".x.toml.swx", ".#x.toml", "#x.toml#", "notes.txt"] {
                        harness.write("etc/" + name, "scratch\n")
                    }
                    harness.mkdir("etc/sub")
                    harness.write("etc/sub/y.toml", "not watched: etc is not recursive\n")
                    for name in ["4913", "x.toml~", ".x.toml.swp", ".x.toml.swx", ".#x.toml", "#x.toml#"] {
                        unlink(harness.path("etc/" + name))
                    }
                }
                #expect(harness.counters.ignoredEvents > 0)
            }
        }

        @Test("editor and ConfigMap names are recognised, ordinary names are not")
        func names() {
            for name in [
                "4913", "5036", "x.toml~", ".x.toml.swp", ".x.toml.swo", ".x.swx", ".#x.toml", "#x.toml#", "x.toml.tmp", "x.toml.tmp.4242",
                "curate.mjs.tmp-a1B2", "sedAb12Cd", ".goutputstream-QX12PZ", "x.toml___jb_tmp___", "x.toml___jb_old___", "x.mjs.part",
            ] {
                #expect(EditorFiles.isTemporary(name), "\(name)")
            }
            for name in [
                "x.toml", "4914", "index.js", ".env", "#notes", "swp", "package.json", "1", "tmp.toml", ".tmp", "x.tmp.toml", "sed.toml",
                "sedimentary", "x.toml.tmp.1.mjs",
            ] {
                #expect(!EditorFiles.isTemporary(name), "\(name)")
            }
            #expect(EditorFiles.isAtomicWriterEntry("..data"))
            #expect(!EditorFiles.isAtomicWriterEntry(".data"))
        }
    }
}
