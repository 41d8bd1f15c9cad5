import CSystemShims
import Glibc
import Locking

/// A single-threaded epoll reactor: every descriptor, timer and piece of proxy state it serves is
/// touched only on its thread, so the hot path (read a line, route it, write it) takes no locks.
///
/// Other threads reach it only through `execute(_:)`.
public final class EventLoop: @unchecked Sendable {
    // Safe to share: `pendingTasks` is behind a lock and `wakeDescriptor` is only written to;
    // everything else is touched solely on the loop thread, which `assertInLoop()` checks.

    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let read = Interest(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
        public static let write = Interest(rawValue: EPOLLOUT.rawValue)
    }

    /// What epoll reported for a descriptor.
    public struct Readiness: Sendable {
        public let rawValue: UInt32
        public var isReadable: Bool { rawValue & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue | EPOLLRDHUP.rawValue) != 0 }
        public var isWritable: Bool { rawValue & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 }
    }

    public typealias TimerID = UInt64

    private enum State { case idle, running, stopping, stopped }

    private let epollDescriptor: Int32
    private let wakeDescriptor: Int32
    private let pendingTasks = Locked<[@Sendable () -> Void]>([])
    private var handlers: [Int32: (Readiness) -> Void] = [:]
    private var timers = TimerQueue()
    private var beforeWaitTasks: [() -> Void] = []
    private var state = State.idle
    private let loopThread = Locked<pthread_t?>(nil)
    /// What timers and every loop-confined component read the time from.
    public let clock: LoopClock

    /// Whether the loop polls for more events after handling some, before it sleeps; a window
    /// of 0 never does (a loop whose wake-ups are rare, or whose CPU is better left to others).
    private var spin: SpinPolicy

    public init(clock: LoopClock = .monotonic, spinNanoseconds: UInt64 = EventLoop.defaultSpinNanoseconds) {
        self.clock = clock
        spin = SpinPolicy(window: spinNanoseconds)
        epollDescriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollDescriptor >= 0, "epoll_create1 failed: errno \(errno)")
        wakeDescriptor = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(wakeDescriptor >= 0, "eventfd failed: errno \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, wakeDescriptor, &event)
    }

    deinit {
        close(wakeDescriptor)
        close(epollDescriptor)
    }

    /// Right after serving something, the answer to it often follows within tens of microseconds.
    public static let defaultSpinNanoseconds: UInt64 = 50_000

    /// Monotonic clock in nanoseconds, for what runs on no loop.
    public static func now() -> UInt64 { LoopClock.monotonicNow() }

    /// The loop's clock in nanoseconds: monotonic, or a test's manual one.
    @inline(__always)
    public func now() -> UInt64 { clock.now() }

    /// A loop a test drives by hand on its own thread with `runPending()`, usually over a manual
    /// clock: what would be asynchronous happens exactly when the test lets it.
    public static func forTesting(clock: LoopClock = .manual()) -> EventLoop {
        let loop = EventLoop(clock: clock)
        loop.loopThread.withLock { $0 = pthread_self() }
        loop.state = .running
        return loop
    }

    public var inLoop: Bool {
        loopThread.withLock { thread in thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inLoop, "called off the event loop thread", file: file, line: line)
    }

    /// Runs `task` on the loop thread soon; safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        pendingTasks.withLock { $0.append(task) }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    // MARK: Descriptors

    /// Watches `descriptor`; returns false when epoll cannot watch it (a regular file or /dev/null).
    @discardableResult
    public func register(_ descriptor: Int32, interest: Interest, handler: @escaping (Readiness) -> Void) -> Bool {
        assertInLoop()
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.fd = descriptor
        guard epoll_ctl(epollDescriptor, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
            precondition(errno == EPERM, "epoll_ctl(ADD, \(descriptor)) failed: errno \(errno)")
            return false
        }
        handlers[descriptor] = handler
        return true
    }

    public func modify(_ descriptor: Int32, interest: Interest) {
        assertInLoop()
        guard handlers[descriptor] != nil else { return }
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.fd = descriptor
        epoll_ctl(epollDescriptor, EPOLL_CTL_MOD, descriptor, &event)
    }

    public func unregister(_ descriptor: Int32) {
        assertInLoop()
        guard handlers.removeValue(forKey: descriptor) != nil else { return }
        var event = epoll_event()
        epoll_ctl(epollDescriptor, EPOLL_CTL_DEL, descriptor, &event)
    }

    // MARK: Timers

    /// Runs `action` on the loop after `delay` nanoseconds unless cancelled first.
    @discardableResult
    public func schedule(afterNanoseconds delay: UInt64, _ action: @escaping () -> Void) -> TimerID {
        assertInLoop()
        return timers.add(deadline: clock.now() + delay, action: action)
    }

    public func cancelTimer(_ id: TimerID) {
        assertInLoop()
        timers.cancel(id)
    }

    // MARK: Running

    /// Serves descriptors, timers and tasks on the calling thread until `stop()`.
    public func run() {
        loopThread.withLock { $0 = pthread_self() }
        state = .running
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var didWork = false
        while state == .running {
            runTasks()
            runDueTimers()
            runBeforeWaitTasks()
            guard state == .running else { break }
            let timeout = timers.millisecondsUntilNextDeadline(now: clock.now())
            var count = Int32(0)
            if didWork && timeout != 0 && spin.pollsThisWait() {
                // Right after serving something, the answer to it often follows within tens of
                // microseconds; polling briefly saves the wake-up of a sleeping thread.
                let spinUntil = Self.now() + spin.window
                repeat {
                    count = events.withUnsafeMutableBufferPointer { epoll_wait(epollDescriptor, $0.baseAddress, Int32($0.count), 0) }
                } while count == 0 && Self.now() < spinUntil
                spin.polled(foundEvent: count > 0)
            }
            if count == 0 {
                count = events.withUnsafeMutableBufferPointer {
                    epoll_wait(epollDescriptor, $0.baseAddress, Int32($0.count), timeout)
                }
            }
            didWork = count > 0
            if count < 0 {
                precondition(errno == EINTR, "epoll_wait failed: errno \(errno)")
                continue
            }
            for index in 0..<Int(count) { dispatch(events[index]) }
        }
        runTasks()
        runBeforeWaitTasks()
        state = .stopped
        loopThread.withLock { $0 = nil }
    }

    /// Runs, on the calling thread of a `forTesting` loop, every task queued, timer due and
    /// descriptor ready now, and what those cause in turn, until nothing is left to do.
    public func runPending() {
        assertInLoop()
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            var didWork = runTasks()
            didWork = runDueTimers() || didWork
            didWork = runBeforeWaitTasks() || didWork
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollDescriptor, $0.baseAddress, Int32($0.count), 0) }
            for index in 0..<Int(max(count, 0)) { dispatch(events[index]) }
            if !didWork && count <= 0 { return }
        }
    }

    private func dispatch(_ event: epoll_event) {
        let descriptor = event.data.fd
        if descriptor == wakeDescriptor {
            var counter: UInt64 = 0
            _ = read(wakeDescriptor, &counter, 8)
            return
        }
        handlers[descriptor]?(Readiness(rawValue: event.events))
    }

    /// Runs `task` once, after this iteration's events, tasks and timers and before the loop
    /// sleeps again: writes queued here go out together, one syscall per descriptor.
    public func runBeforeNextWait(_ task: @escaping () -> Void) {
        assertInLoop()
        beforeWaitTasks.append(task)
    }

    @discardableResult
    private func runBeforeWaitTasks() -> Bool {
        let hadTasks = !beforeWaitTasks.isEmpty
        while !beforeWaitTasks.isEmpty {
            let batch = beforeWaitTasks
            beforeWaitTasks.removeAll(keepingCapacity: true)
            for task in batch { task() }
        }
        return hadTasks
    }

    /// Makes `run()` return after the current iteration; safe from any thread.
    public func stop() {
        execute { [self] in state = .stopping }
    }

    @discardableResult
    private func runTasks() -> Bool {
        var ranAny = false
        while true {
            let batch = pendingTasks.withLock { tasks -> [@Sendable () -> Void] in
                defer { tasks.removeAll(keepingCapacity: true) }
                return tasks
            }
            if batch.isEmpty { return ranAny }
            ranAny = true
            for task in batch { task() }
        }
    }

    @discardableResult
    private func runDueTimers() -> Bool {
        let now = clock.now()
        var ranAny = false
        while let action = timers.popDue(now: now) {
            ranAny = true
            action()
        }
        return ranAny
    }
}
