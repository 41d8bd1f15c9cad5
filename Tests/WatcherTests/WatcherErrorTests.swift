import Glibc
import Testing
@testable import Watcher

extension DirectoryWatcherTests {
    @Suite struct Errors {
        @Test("running out of inotify watches names the sysctl to raise and its current value")
        func outOfWatches() {
            let error = WatcherError(
                call: "inotify_add_watch", errno: ENOSPC, path: "/srv/plugins.d/x/node_modules",
                readLimit: { $0 == "max_user_watches" ? 8192 : nil })
            #expect(error.kind == .outOfWatches(limit: 8192))
            #expect(
                error.description
                    == "cannot watch /srv/plugins.d/x/node_modules: out of inotify watches "
                    + "(fs.inotify.max_user_watches = 8192); raise it with sysctl fs.inotify.max_user_watches=524288")
        }

        @Test("running out of inotify instances names the sysctl to raise and its current value")
        func outOfInstances() {
            let error = WatcherError(call: "inotify_init1", errno: EMFILE, readLimit: { _ in 128 })
            #expect(error.kind == .outOfInstances(limit: 128))
            #expect(error.description.contains("too many inotify instances (fs.inotify.max_user_instances = 128)"))
            #expect(error.description.contains("sysctl fs.inotify.max_user_instances=1024"))
        }

        @Test("other failures name the call and the system's message")
        func otherFailure() {
            let error = WatcherError(call: "inotify_add_watch", errno: EACCES, path: "/srv/x", readLimit: { _ in nil })
            #expect(error.description == "cannot watch /srv/x: inotify_add_watch failed: Permission denied (errno 13)")
        }

        @Test("the live limits can be read from /proc")
        func liveLimits() {
            #expect((WatcherError.inotifyLimit("max_user_watches") ?? 0) > 0)
        }
    }
}
