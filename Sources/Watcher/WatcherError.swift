import Glibc

/// Why the watcher could not watch something, phrased so an operator can act on it.
public struct WatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `inotify_add_watch` failed with ENOSPC: `fs.inotify.max_user_watches` is reached.
        case outOfWatches(limit: Int?)
        /// `inotify_init1` failed with EMFILE: `fs.inotify.max_user_instances` (or the process's
        /// descriptor limit) is reached.
        case outOfInstances(limit: Int?)
        /// Any other failure of `call`.
        case system(call: String, errno: Int32)
    }

    public let kind: Kind
    /// The directory being watched, when there was one.
    public let path: String?

    public init(kind: Kind, path: String? = nil) {
        self.kind = kind
        self.path = path
    }

    /// The error for `call` failing with `code`; `readLimit` reads a value from
    /// /proc/sys/fs/inotify (a parameter so tests can pretend).
    public init(
        call: String, errno code: Int32, path: String? = nil,
        readLimit: (String) -> Int? = WatcherError.inotifyLimit
    ) {
        switch (call, code) {
        case (_, ENOSPC) where call.hasPrefix("inotify_add_watch"):
            kind = .outOfWatches(limit: readLimit("max_user_watches"))
        case (_, EMFILE) where call.hasPrefix("inotify_init"):
            kind = .outOfInstances(limit: readLimit("max_user_instances"))
        default:
            kind = .system(call: call, errno: code)
        }
        self.path = path
    }

    public var description: String {
        let subject = path.map { "cannot watch \($0): " } ?? "cannot watch files: "
        switch kind {
        case .outOfWatches(let limit):
            let current = limit.map(String.init) ?? "unknown"
            let suggestion = limit.map { String(max($0 * 4, 524_288)) } ?? "524288"
            return subject + "out of inotify watches (fs.inotify.max_user_watches = \(current)); "
                + "raise it with sysctl fs.inotify.max_user_watches=\(suggestion)"
        case .outOfInstances(let limit):
            let current = limit.map(String.init) ?? "unknown"
            let suggestion = limit.map { String(max($0 * 4, 1024)) } ?? "1024"
            return subject + "too many inotify instances (fs.inotify.max_user_instances = \(current)); "
                + "raise it with sysctl fs.inotify.max_user_instances=\(suggestion), "
                + "or the open-file limit (ulimit -n) if that is what ran out"
        case .system(let call, let code):
            return subject + "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }

    /// Reads /proc/sys/fs/inotify/`name`; nil when it cannot be read.
    public static func inotifyLimit(_ name: String) -> Int? {
        let descriptor = open("/proc/sys/fs/inotify/" + name, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        return Int(text.filter { $0.isNumber })
    }
}
