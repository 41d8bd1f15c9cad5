import Glibc
import IO
import Logging

/// Opens a URL in the person's browser where there is a desktop session to show it in.
enum Browser {
    static func open(_ url: String, log: Logger) {
        guard getenv("DISPLAY") != nil || getenv("WAYLAND_DISPLAY") != nil else {
            log.debug("no desktop session (DISPLAY, WAYLAND_DISPLAY): not opening a browser")
            return
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let arguments = ["xdg-open", url]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let status = posix_spawnp(&pid, "xdg-open", &actions, nil, &argv, environ)
        if status != 0 {
            log.debug("could not start xdg-open: \(String(cString: strerror(status)))")
            return
        }
        // xdg-open returns once the browser has the URL; reap it without waiting here.
        let child = pid
        BackgroundThread.run {
            var status: Int32 = 0
            waitpid(child, &status, 0)
        }
    }
}
