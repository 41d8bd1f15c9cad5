import Glibc
import IO

/// Watches directory trees with inotify and reports settled sets of files whose content changed.
///
/// Loop-confined: create it, call its methods and read its properties on `loop`'s thread only;
/// `onChange` is called there too.
///
/// Events only say *where* to look. When a burst of events has settled (no event for `debounce`,
/// or `ceiling` after the burst's first event, whichever comes first), the watcher re-reads what
/// the events touched and compares the files' contents with its snapshot; `onChange` hears only
/// real content changes, once per burst. So an editor's save dance (swap files, backups,
/// renames), `touch`, `chmod` or a save of identical bytes either produce one change set or none.
///
/// A consumer whose handling of a change set is asynchronous calls `beginHandling()` before
/// `onChange` returns and `endHandling()` when done: changes settling meanwhile are held and
/// delivered as one change set after `endHandling()`.
public final class DirectoryWatcher {
    /// Called once per settled burst that changed some file's content; never with an empty set.
    public var onChange: (ChangeSet) -> Void = { _ in }

    public var counters: WatcherCounters {
        var copy = statistics
        copy.watches = pathByWatch.count
        return copy
    }

    let loop: EventLoop
    let roots: [WatchedRoot]
    let rootIndexByPath: [String: Int]
    let debounce: UInt64
    let ceiling: UInt64
    let log: (String) -> Void

    enum State { case idle, running, stopped }
    var state = State.idle
    var descriptor: Int32 = -1
    var statistics = WatcherCounters()

    /// Watch descriptors and the directory path each stands for, both ways.
    var pathByWatch: [Int32: String] = [:]
    var watchByPath: [String: Int32] = [:]

    /// Path → fingerprint of every reported file, as last seen.
    var snapshot: [String: FileFingerprint] = [:]
    let fingerprinter = Fingerprinter()

    /// What events said to look at, not yet looked at.
    var pending = PendingWork()
    var burstStart: UInt64?
    var settleTimer: EventLoop.TimerID?
    var handlingDepth = 0
    var settleDeferred = false

    /// The first limit error (ENOSPC, ENOMEM) met while adding watches; thrown by `start()`.
    var startFailure: WatcherError?
    var starting = false
    var watchFailureLogged = false

    let eventBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    /// - Parameters:
    ///   - debounce: quiet time, in nanoseconds, after which a burst of events is settled.
    ///   - ceiling: longest time, in nanoseconds, from a burst's first event to its change set,
    ///     so a file written continuously is still reported.
    ///   - log: receives one sentence per problem that does not stop the watcher.
    public init(
        loop: EventLoop, roots: [WatchedRoot], debounce: UInt64 = 50_000_000,
        ceiling: UInt64 = 1_000_000_000, log: @escaping (String) -> Void
    ) {
        self.loop = loop
        self.roots = roots
        var indexByPath: [String: Int] = [:]
        for (index, root) in roots.enumerated() { indexByPath[root.path] = index }
        self.rootIndexByPath = indexByPath
        self.debounce = debounce
        self.ceiling = max(ceiling, debounce)
        self.log = log
    }

    deinit {
        if descriptor >= 0 {
            if loop.inLoop { loop.unregister(descriptor) }
            close(descriptor)
        }
        eventBuffer.deallocate()
    }

    /// Creates the inotify instance, watches every root (and its parent, to see the root appear
    /// or vanish) and takes the initial snapshot. Roots that do not exist yet are picked up when
    /// they appear, provided their parent directory exists.
    ///
    /// Throws when the system's inotify limits are reached; the error names the sysctl to raise.
    public func start() throws(WatcherError) {
        loop.assertInLoop()
        precondition(state == .idle, "DirectoryWatcher.start() called twice")
        let created = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard created >= 0 else { throw WatcherError(call: "inotify_init1", errno: errno) }
        descriptor = created
        state = .running
        loop.register(descriptor, interest: .read) { [weak self] _ in self?.readEvents() }

        starting = true
        watchRootParents(reportingMissing: true)
        for root in roots {
            takeSnapshot(of: root.path)
        }
        starting = false
        if let failure = startFailure {
            stop()
            throw failure
        }
    }

    /// Stops watching; no `onChange` call follows. Safe to call more than once.
    public func stop() {
        loop.assertInLoop()
        guard state == .running else {
            state = .stopped
            return
        }
        state = .stopped
        if let timer = settleTimer { loop.cancelTimer(timer) }
        settleTimer = nil
        loop.unregister(descriptor)
        close(descriptor)
        descriptor = -1
        pathByWatch.removeAll()
        watchByPath.removeAll()
        pending = PendingWork()
    }

    /// Marks the start of asynchronous handling of a change set: until the matching
    /// `endHandling()`, settled changes are held back.
    public func beginHandling() {
        loop.assertInLoop()
        handlingDepth += 1
    }

    /// Ends what `beginHandling()` began; changes that settled meanwhile are delivered as one
    /// change set, from the loop's next turn (never from inside this call).
    public func endHandling() {
        loop.assertInLoop()
        precondition(handlingDepth > 0, "endHandling() without beginHandling()")
        handlingDepth -= 1
        if handlingDepth == 0 && settleDeferred && settleTimer == nil && state == .running {
            settleDeferred = false
            armSettleTimer(afterNanoseconds: 0)
        }
    }

    /// Compares every root with the snapshot on the loop's next turn, as after a queue
    /// overflow, and reports what differs through `onChange` (subject to `beginHandling()`).
    /// For an operator's "reload now", and for tests.
    public func rescanAll() {
        loop.assertInLoop()
        guard state == .running else { return }
        pending.fullRescan = true
        burstStart = nil
        armSettleTimer(afterNanoseconds: 0)
    }

    // MARK: Debounce

    /// Something may have changed: (re)arms the settle timer, never past the burst's ceiling.
    func noteActivity() {
        guard state == .running else { return }
        let now = EventLoop.now()
        let start = burstStart ?? now
        burstStart = start
        let deadline = min(now + debounce, start + ceiling)
        armSettleTimer(afterNanoseconds: deadline > now ? deadline - now : 0)
    }

    private func armSettleTimer(afterNanoseconds delay: UInt64) {
        if let timer = settleTimer { loop.cancelTimer(timer) }
        settleTimer = loop.schedule(afterNanoseconds: delay) { [weak self] in
            guard let self else { return }
            self.settleTimer = nil
            self.burstStart = nil
            self.settleOrDefer()
        }
    }

    private func settleOrDefer() {
        if handlingDepth > 0 {
            settleDeferred = true
        } else {
            settle()
        }
    }
}

/// Where events said to look.
struct PendingWork {
    /// Files to re-read.
    var files: Set<String> = []
    /// Directories to walk and compare as a whole (new, moved, deleted, roots).
    var subtrees: Set<String> = []
    /// Directories whose symbolic links to re-read (a link's target may have changed).
    var linkDirectories: Set<String> = []
    /// Every root, after an overflow.
    var fullRescan = false
}

extension DirectoryWatcher: Service {
    public var serviceName: String { "the watcher" }
    public func beginDrain() { stop() }
    public func whenDrained(_ completion: @escaping () -> Void) { completion() }
    public func forceStop() { stop() }
}
