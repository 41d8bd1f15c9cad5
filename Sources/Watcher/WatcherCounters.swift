/// What a watcher has done so far, for status dumps and tests.
public struct WatcherCounters: Sendable, Equatable {
    /// Directories currently watched (roots' parents included).
    public var watches = 0
    /// inotify events read, overflow markers included.
    public var events = 0
    /// Times the kernel's event queue overflowed (IN_Q_OVERFLOW).
    public var overflows = 0
    /// Full rescans of a root: after an overflow, or when a root appeared, vanished or moved.
    public var rescans = 0
    /// Change sets delivered to `onChange`.
    public var changeSets = 0
    /// Events dropped without a look at the disk: editor temporary files, filtered-out names,
    /// directories no longer watched.
    public var ignoredEvents = 0
    /// Directories that could not be watched after start (out of watches, permissions).
    public var watchFailures = 0

    public init() {}
}
