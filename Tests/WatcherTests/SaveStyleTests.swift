import Foundation
import Glibc
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    /// Every way people save a file yields exactly one change set naming it.
    @Suite struct SaveStyles {
        /// A plugins.d-like recursive root with `x.toml` in it, watched.
        func prepared(_ harness: WatchHarness, content: String = "name = \"old\"\n") throws -> String {
            harness.mkdir("root")
            harness.write("root/x.toml", content)
            try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)])
            return harness.path("root/x.toml")
        }

        @Test("a temp-then-rename save, however slow, and sed -i each trigger exactly one change set")
        func tempThenRename() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let set = harness.expectExactlyOneChange {
                    harness.write("root/x.toml.tmp.4242", "name = \"new\"\n")
                    usleep(700_000)
                    rename(harness.path("root/x.toml.tmp.4242"), file)
                }
                #expect(set == ChangeSet(modified: [file]))
                let edited = harness.expectExactlyOneChange { harness.sh("sed -i 's/new/newer/' root/x.toml") }
                #expect(edited == ChangeSet(modified: [file]))
            }
        }

        @Test("a vim save with backupcopy=no (rename to backup, write anew) triggers exactly one change set")
        func vimRenamingSave() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let swap = harness.path("root/.x.toml.swp")
                let set = harness.expectExactlyOneChange {
                    // What vim does, syscall by syscall: swap file, writability probe, backup by
                    // rename, new file, permissions, backup removed, swap updated and removed.
                    harness.write("root/.x.toml.swp", String(repeating: "s", count: 4096))
                    harness.write("root/4913", "")
                    unlink(harness.path("root/4913"))
                    rename(file, file + "~")
                    let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    harness.writeAll(descriptor, "name = \"new\"\n")
                    fsync(descriptor)
                    close(descriptor)
                    chmod(file, 0o644)
                    unlink(file + "~")
                    harness.write("root/.x.toml.swp", String(repeating: "t", count: 4096))
                    unlink(swap)
                }
                #expect(set == ChangeSet(modified: [file]))
            }
        }

        @Test("a vim save with backupcopy=yes (copy to backup, rewrite in place) triggers exactly one change set")
        func vimCopyingSave() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let set = harness.expectExactlyOneChange {
                    harness.write("root/.x.toml.swp", String(repeating: "s", count: 4096))
                    harness.write("root/x.toml~", "name = \"old\"\n")
                    let descriptor = open(file, O_WRONLY | O_TRUNC)
                    harness.writeAll(descriptor, "name = \"new\"\n")
                    fsync(descriptor)
                    close(descriptor)
                    unlink(file + "~")
                    unlink(harness.path("root/.x.toml.swp"))
                }
                #expect(set == ChangeSet(modified: [file]))
            }
        }

        @Test(
            "a real vim save triggers exactly one change set in both backupcopy modes",
            .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/vim")))
        func realVim() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                for (mode, word) in [("no", "first"), ("yes", "second")] {
                    let set = harness.expectExactlyOneChange {
                        harness.sh(
                            "vim -u NONE -i NONE -N -es -c 'set backupcopy=\(mode) writebackup' "
                                + "-c '%s/=.*/= \"\(word)\"/' -c 'wq' root/x.toml < /dev/null")
                    }
                    #expect(set == ChangeSet(modified: [file]), "backupcopy=\(mode)")
                }
            }
        }

        @Test("an emacs save (lock link, auto-save, backup by rename, new file) triggers exactly one change set")
        func emacsSave() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let set = harness.expectExactlyOneChange {
                    symlink("user@host.4242:1700000000", harness.path("root/.#x.toml"))
                    harness.write("root/#x.toml#", "name = \"draft\"\n")
                    rename(file, file + "~")
                    harness.write("root/x.toml", "name = \"new\"\n")
                    unlink(harness.path("root/#x.toml#"))
                    unlink(harness.path("root/.#x.toml"))
                }
                #expect(set == ChangeSet(modified: [file]))
            }
        }

        @Test("sed -i (temporary file renamed over the original) triggers exactly one change set")
        func sedInPlace() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let set = harness.expectExactlyOneChange { harness.sh("sed -i 's/old/new/' root/x.toml") }
                #expect(set == ChangeSet(modified: [file]))
            }
        }

        @Test("cp over a file, and mv of a temporary file over it, each trigger exactly one change set")
        func copyAndMove() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                harness.write("elsewhere.toml", "name = \"copied\"\n")
                let copied = harness.expectExactlyOneChange { harness.sh("cp elsewhere.toml root/x.toml") }
                #expect(copied == ChangeSet(modified: [file]))
                let moved = harness.expectExactlyOneChange {
                    harness.sh("printf 'name = \"moved\"\\n' > root/.x.toml.new && mv root/.x.toml.new root/x.toml")
                }
                #expect(moved == ChangeSet(modified: [file]))
            }
        }

        @Test("truncating a file and appending to it in quick succession triggers exactly one change set")
        func truncateAndAppend() throws {
            try withHarness { harness in
                let file = try prepared(harness)
                let set = harness.expectExactlyOneChange {
                    harness.sh(": > root/x.toml; echo 'name = \"a\"' >> root/x.toml; echo 'port = 1' >> root/x.toml")
                }
                #expect(set == ChangeSet(modified: [file]))
            }
        }

        @Test("git checkout of many files triggers exactly one change set with every path")
        func gitCheckout() throws {
            try withHarness { harness in
                harness.mkdir("root")
                harness.sh(
                    """
                    cd root && git init -q -b main . && git config user.name t && git config user.email t@example.com \
                    && for n in 1 2 3 4 5 6 7 8; do echo "v1 $n" > f$n.js; done && mkdir lib && echo lib > lib/l.js \
                    && git add -A && git commit -qm one && git checkout -qb other \
                    && for n in 1 2 3 4 5; do echo "v2 $n" > f$n.js; done && git rm -q f8.js lib/l.js && echo new > f9.js \
                    && git add -A && git commit -qm two && git checkout -q main
                    """)
                try harness.start([WatchedRoot(path: harness.path("root"), recursive: true)])
                let set = harness.expectExactlyOneChange { harness.sh("cd root && git checkout -q other") }
                let root = harness.path("root")
                #expect(set?.added == ["\(root)/f9.js"])
                #expect(set?.modified == (1...5).map { "\(root)/f\($0).js" })
                #expect(set?.removed == ["\(root)/f8.js", "\(root)/lib/l.js"])
            }
        }

        @Test("a Kubernetes ConfigMap update (..data symlink swap) triggers one change set naming the top-level links")
        func configMapSwap() throws {
            try withHarness { harness in
                harness.mkdir("etc")
                harness.sh(
                    """
                    cd etc && mkdir ..2024_01_01_a && echo 'a = 1' > ..2024_01_01_a/a.toml \
                    && echo 'b = 1' > ..2024_01_01_a/b.toml && echo 'c = 1' > ..2024_01_01_a/c.toml \
                    && ln -s ..2024_01_01_a ..data \
                    && ln -s ..data/a.toml a.toml && ln -s ..data/b.toml b.toml && ln -s ..data/c.toml c.toml
                    """)
                try harness.start([
                    WatchedRoot(path: harness.path("etc"), recursive: true, include: WatchedRoot.suffixes(".toml"))
                ])
                let set = harness.expectExactlyOneChange {
                    harness.sh(
                        """
                        cd etc && mkdir ..2024_01_02_b && echo 'a = 2' > ..2024_01_02_b/a.toml \
                        && echo 'b = 2' > ..2024_01_02_b/b.toml && echo 'c = 1' > ..2024_01_02_b/c.toml \
                        && ln -s ..2024_01_02_b ..data_tmp && mv -T ..data_tmp ..data && rm -rf ..2024_01_01_a
                        """)
                }
                #expect(set == ChangeSet(modified: [harness.path("etc/a.toml"), harness.path("etc/b.toml")]))
            }
        }
    }
}
