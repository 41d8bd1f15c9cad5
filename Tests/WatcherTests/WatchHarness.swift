import Foundation
import Glibc
import IO
import Synchronization
import Testing
@testable import Watcher

/// A watcher on its own loop thread over a fresh temporary directory; the test thread drives
/// the file system and reads what the watcher reported.
final class WatchHarness: Sendable {
    let loop = EventLoop()
    /// The temporary directory (real path, no symbolic links).
    let directory: String
    private let watcher = Mutex<LoopBound<DirectoryWatcher>?>(nil)
    private let received = Mutex<[(set: ChangeSet, at: UInt64)]>([])
    private let logLines = Mutex<[String]>([])
    private let finished = Mutex(false)

    init() {
        var template = Array("/tmp/plugboard-watcher-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let thread = Thread { [self] in
            loop.run()
            finished.withLock { $0 = true }
        }
        thread.start()
    }

    func path(_ relative: String) -> String { directory + "/" + relative }

    /// Creates and starts the watcher on the loop. With `holdWhileHandling`, every change set
    /// begins a handling period that only `endHandling()` ends.
    func start(
        _ roots: [WatchedRoot], debounce: UInt64 = 50_000_000, ceiling: UInt64 = 1_000_000_000,
        holdWhileHandling: Bool = false
    ) throws {
        let result: Result<Void, WatcherError> = onLoop { [self] in
            let created = DirectoryWatcher(
                loop: loop, roots: roots, debounce: debounce, ceiling: ceiling,
                log: { line in self.logLines.withLock { $0.append(line) } })
            created.onChange = { [unowned created] set in
                self.received.withLock { $0.append((set, EventLoop.now())) }
                if holdWhileHandling { created.beginHandling() }
            }
            do throws(WatcherError) {
                try created.start()
            } catch {
                return .failure(error)
            }
            self.watcher.withLock { $0 = LoopBound(created, loop: self.loop) }
            return .success(())
        }
        try result.get()
    }

    /// Runs `body` on the loop thread and waits for its result.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// Runs `body` with the watcher on the loop thread.
    func withWatcher<T: Sendable>(_ body: @escaping @Sendable (DirectoryWatcher) -> T) -> T {
        onLoop { [self] in body(watcher.withLock { $0 }!.value) }
    }

    var counters: WatcherCounters { withWatcher { $0.counters } }
    var logs: [String] { logLines.withLock { $0 } }
    var changeSets: [ChangeSet] { received.withLock { $0.map(\.set) } }
    var arrivalTimes: [UInt64] { received.withLock { $0.map(\.at) } }

    /// Waits (generously) until at least `count` change sets arrived; returns them all.
    @discardableResult
    func waitForChangeSets(_ count: Int, timeout: Double = 5) -> [ChangeSet] {
        let deadline = Date().addingTimeInterval(timeout)
        while received.withLock({ $0.count }) < count && Date() < deadline {
            usleep(5_000)
        }
        return changeSets
    }

    /// Waits `quiet` seconds and returns every change set received by then.
    func settle(quiet: Double = 0.3) -> [ChangeSet] {
        usleep(UInt32(quiet * 1_000_000))
        return changeSets
    }

    /// Waits for one more change set than there are now, then makes sure no other follows.
    func expectExactlyOneChange(
        sourceLocation: SourceLocation = #_sourceLocation, _ action: () throws -> Void
    ) rethrows -> ChangeSet? {
        let before = changeSets.count
        try action()
        waitForChangeSets(before + 1)
        let after = settle()
        #expect(after.count == before + 1, "change sets: \(after.dropFirst(before))", sourceLocation: sourceLocation)
        return after.count > before ? after[before] : nil
    }

    /// Runs `action` and makes sure no change set follows within a generous window.
    func expectNoChange(
        sourceLocation: SourceLocation = #_sourceLocation, _ action: () throws -> Void
    ) rethrows {
        let before = changeSets.count
        try action()
        let after = settle(quiet: 0.4)
        #expect(after.count == before, "unexpected change sets: \(after.dropFirst(before))", sourceLocation: sourceLocation)
    }

    func shutdown() {
        if watcher.withLock({ $0 }) != nil {
            onLoop { [self] in
                watcher.withLock { $0 }?.value.stop()
                watcher.withLock { $0 = nil }
            }
        }
        loop.stop()
        while !finished.withLock({ $0 }) { usleep(1_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: File-system helpers

    func write(_ relative: String, _ content: String) {
        let descriptor = open(path(relative), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(descriptor >= 0, "open \(relative): errno \(errno)")
        writeAll(descriptor, content)
        close(descriptor)
    }

    func writeAll(_ descriptor: Int32, _ content: String) {
        var bytes = Array(content.utf8)
        let count = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        precondition(count == bytes.count, "short write")
    }

    func mkdir(_ relative: String) {
        precondition(Glibc.mkdir(path(relative), 0o755) == 0 || errno == EEXIST, "mkdir \(relative)")
    }

    /// Runs `/bin/sh -c command` in the temporary directory and expects it to succeed.
    func sh(_ command: String, in relative: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: relative.map(path) ?? directory)
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            Issue.record("cannot run /bin/sh: \(error)", sourceLocation: sourceLocation)
            return
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "`\(command)` failed", sourceLocation: sourceLocation)
    }
}

/// Runs `body` with a harness and shuts it down afterwards.
func withHarness(_ body: (WatchHarness) throws -> Void) rethrows {
    let harness = WatchHarness()
    defer { harness.shutdown() }
    try body(harness)
}
