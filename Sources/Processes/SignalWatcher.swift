import CSystemShims
import Foundation
import Glibc
import Locking
import Synchronization

/// Delivers signals to a handler on a dedicated thread instead of interrupting
/// arbitrary code.
///
/// `init` blocks the signals in the calling thread's mask. Create the watcher on the
/// main thread before starting other threads: threads inherit the mask, so the signals
/// then stay pending until the watcher's signalfd picks them up. Threads that already
/// exist with the signals unblocked (the Dispatch or Swift concurrency pools, a test
/// runner's threads) are covered too: the watcher installs a handler that only writes the
/// signal number to a pipe the watcher thread reads. Either way each signal reaches
/// `handler` once, in order of arrival (standard signals that arrive while one of the
/// same kind is pending coalesce, as always).
///
/// Children started by `ChildProcess.spawn` get an empty mask and default dispositions,
/// so watching a signal here does not leave it blocked or handled in them.
public final class SignalWatcher: Sendable {
    /// The signals being watched.
    public let signals: [Int32]

    private let signalDescriptor: FileDescriptor
    private let wakeRead: FileDescriptor
    private let wakeWrite: FileDescriptor
    private let stopped = Atomic<Bool>(false)
    private let watcherThread = Atomic<UInt>(0)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts watching `signals` (at most one watcher per signal at a time); `handler`
    /// runs on the watcher's thread, one signal at a time.
    ///
    /// Failing to set up (no descriptors left at startup, or a signal number that cannot
    /// be handled such as SIGKILL) stops the process: there is no sensible way to go on.
    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        func mustSucceed<Value>(_ body: () throws(SystemError) -> Value) -> Value {
            do { return try body() } catch { preconditionFailure("SignalWatcher: \(error)") }
        }
        self.signals = signals
        var set = sigset_t()
        pb_sigemptyset(&set)
        for signal in signals {
            precondition(pb_sigaddset(&set, signal) == 0, "SignalWatcher: \(signalName(signal)) cannot be watched")
        }
        let code = pb_thread_sigmask(SIG_BLOCK, &set, nil)
        precondition(code == 0, "SignalWatcher: \(SystemError(call: "pthread_sigmask", errno: code))")

        signalDescriptor = FileDescriptor(
            rawValue: mustSucceed { () throws(SystemError) in try retryingOnInterrupt("signalfd") { pb_signalfd(&set) } })
        let wake = mustSucceed { () throws(SystemError) in
            let wake = try FileDescriptor.pipe()
            // The signal handler must never block, and the thread drains without blocking.
            try wake.write.setNonBlocking(true)
            try wake.read.setNonBlocking(true)
            return wake
        }
        wakeRead = wake.read
        wakeWrite = wake.write
        for signal in signals {
            let installed = pb_install_forwarding_handler(signal, wakeWrite.rawValue) == 0
            precondition(installed, "SignalWatcher: \(SystemError(call: "sigaction", errno: pb_errno(), context: "handle \(signalName(signal))"))")
        }

        let thread = Thread { [self] in run(handler) }
        thread.name = "signal watcher"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Stops watching: restores the default disposition of each signal (they stay blocked
    /// in threads that blocked them) and, unless called from the handler, waits for the
    /// watcher thread to finish. Later calls do nothing.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 0
        _ = withUnsafeBytes(of: &byte) { try? wakeWrite.write($0) }
        if watcherThread.load(ordering: .acquiring) != UInt(pthread_self()) {
            finished.wait()
        }
    }

    private func run(_ handler: @Sendable (Int32) -> Void) {
        watcherThread.store(UInt(pthread_self()), ordering: .releasing)
        var descriptors = [
            pollfd(fd: signalDescriptor.rawValue, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead.rawValue, events: Int16(POLLIN), revents: 0),
        ]
        var bytes = [UInt8](repeating: 0, count: 64)
        watching: while true {
            if poll(&descriptors, 2, -1) == -1 {
                if pb_errno() == EINTR { continue }
                preconditionFailure("\(SystemError(call: "poll", errno: pb_errno(), context: "signal watcher poll"))")
            }
            if descriptors[0].revents != 0 {
                while true {
                    let signal = pb_signalfd_read(signalDescriptor.rawValue)
                    if signal > 0 { handler(signal) } else if signal == -1 && pb_errno() == EINTR { continue } else { break }
                }
            }
            if descriptors[1].revents != 0 {
                while true {
                    let count = bytes.withUnsafeMutableBytes { (try? wakeRead.read(into: $0)) ?? 0 }
                    if count <= 0 { break }
                    for byte in bytes.prefix(count) {
                        if byte == 0 { break watching }
                        handler(Int32(byte))
                    }
                }
            }
            if stopped.load(ordering: .acquiring) { break }
        }
        for signal in signals { _ = pb_remove_forwarding_handler(signal) }
        for descriptor in [signalDescriptor, wakeRead, wakeWrite] { descriptor.close() }
        finished.signal()
    }
}
