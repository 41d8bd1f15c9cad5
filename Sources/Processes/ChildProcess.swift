import CSystemShims
import Dispatch
import Foundation
import Glibc
import Locking

/// A child process we started: its pid, the parent's ends of its pipes, and its exit.
///
/// The child runs in its own process group (pgid = pid) with default signal
/// dispositions, an empty signal mask and no descriptors beyond 0, 1 and 2. A dedicated
/// thread waits for it and reaps it exactly once; nothing here calls waitpid(-1), so
/// other code's children are left alone. The pipe descriptors are not closed
/// automatically: close them when done (and drain output pipes while the child runs).
public final class ChildProcess: Sendable {
    /// The child's pid, which is also its process group id.
    public let pid: Int32
    /// The parent's write end of the child's stdin (close-on-exec), if `.pipe`.
    public let standardInput: FileDescriptor?
    /// The parent's read end of the child's stdout (close-on-exec), if `.pipe`.
    public let standardOutput: FileDescriptor?
    /// The parent's read end of the child's stderr (close-on-exec), if `.pipe`.
    public let standardError: FileDescriptor?
    /// The executable as resolved through PATH.
    public let executablePath: String

    /// Where a child finds `Configuration.passedDescriptors`: from here on, after stdin, stdout and stderr.
    public static let firstPassedDescriptor: Int32 = 3

    private struct State {
        var exitStatus: ExitStatus?
        var exitHandlers: [@Sendable (ExitStatus) -> Void] = []
    }

    // The lock is also held while signalling and while reaping, so a signal is never
    // sent to a pid that has been reaped (and might already belong to another process).
    private let state = Locked(State())

    private init(
        pid: Int32, executablePath: String,
        standardInput: FileDescriptor?, standardOutput: FileDescriptor?, standardError: FileDescriptor?
    ) {
        self.pid = pid
        self.executablePath = executablePath
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Starts a child process as configured.
    public static func spawn(_ configuration: Configuration) throws(SpawnError) -> ChildProcess {
        func failure(_ reason: SpawnError.Reason) -> SpawnError {
            SpawnError(
                executable: configuration.executable,
                workingDirectory: configuration.workingDirectory,
                reason: reason)
        }

        let path = try resolveExecutable(configuration)
        if let directory = configuration.workingDirectory {
            if let code = unusableDirectory(directory) { throw failure(.badWorkingDirectory(errno: code)) }
        }

        var parentEnds: [FileDescriptor] = []
        var childEnds: [FileDescriptor] = []
        func closeAll(_ descriptors: [FileDescriptor]) { for descriptor in descriptors { descriptor.close() } }

        // Returns the descriptor number pb_spawn should give the child, and the parent's end.
        func prepare(_ redirect: Redirect, childReads: Bool) throws(SpawnError) -> (Int32, FileDescriptor?) {
            switch redirect {
            case .inherit: return (PB_SPAWN_INHERIT, nil)
            case .discard: return (PB_SPAWN_DEVNULL, nil)
            case .pipe:
                let pipe: (read: FileDescriptor, write: FileDescriptor)
                do { pipe = try FileDescriptor.pipe() } catch {
                    closeAll(parentEnds + childEnds)
                    throw failure(.pipeFailed(error))
                }
                let (child, parent) = childReads ? (pipe.read, pipe.write) : (pipe.write, pipe.read)
                childEnds.append(child)
                parentEnds.append(parent)
                return (child.rawValue, parent)
            }
        }

        let (stdinChild, stdinParent) = try prepare(configuration.standardInput, childReads: true)
        let (stdoutChild, stdoutParent) = try prepare(configuration.standardOutput, childReads: false)
        let (stderrChild, stderrParent) = try prepare(configuration.standardError, childReads: false)

        // A descriptor numbered below its target could be overwritten by an earlier dup2 in the
        // child: such ones are first copied above every target.
        let firstFree = Self.firstPassedDescriptor + Int32(configuration.passedDescriptors.count)
        var lifted: [Int32] = []
        defer { for descriptor in lifted { Glibc.close(descriptor) } }
        var passed: [Int32] = []
        for descriptor in configuration.passedDescriptors {
            guard descriptor.rawValue < firstFree else {
                passed.append(descriptor.rawValue)
                continue
            }
            let copy = fcntl(descriptor.rawValue, F_DUPFD_CLOEXEC, firstFree)
            guard copy >= 0 else {
                let code = pb_errno()
                closeAll(parentEnds + childEnds)
                throw failure(.spawnFailed(errno: code))
            }
            lifted.append(copy)
            passed.append(copy)
        }
        let arguments = [configuration.executable] + configuration.arguments
        let environment = configuration.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStringArray(arguments) { argv in
            withCStringArray(environment) { envp in
                if let directory = configuration.workingDirectory {
                    return directory.withCString { cwd in
                        pb_spawn(&pid, path, argv, envp, cwd, stdinChild, stdoutChild, stderrChild, passed, Int32(passed.count))
                    }
                }
                return pb_spawn(&pid, path, argv, envp, nil, stdinChild, stdoutChild, stderrChild, passed, Int32(passed.count))
            }
        }
        closeAll(childEnds)
        if result != 0 {
            closeAll(parentEnds)
            switch result {
            case ENOENT, EACCES, ENOEXEC, ETXTBSY, ENOTDIR, ELOOP, ENAMETOOLONG, EISDIR, EPERM:
                throw failure(.cannotExecute(path: path, errno: result))
            default:
                throw failure(.spawnFailed(errno: result))
            }
        }

        let child = ChildProcess(
            pid: pid, executablePath: path,
            standardInput: stdinParent, standardOutput: stdoutParent, standardError: stderrParent)
        OrphanReaper.ownChildren.withLock { _ = $0.insert(pid) }
        child.startReaper()
        return child
    }

    /// The exit status once the child has exited and been reaped; nil while it runs.
    public var exitStatus: ExitStatus? {
        state.withLock { $0.exitStatus }
    }

    /// Sends `signal` to the child's process group (falling back to the child alone).
    /// Does nothing once the child has been reaped.
    public func signal(_ signal: Int32) {
        state.withLock { state in
            guard state.exitStatus == nil else { return }
            if kill(-pid, signal) == -1 && pb_errno() == ESRCH {
                _ = kill(pid, signal)
            }
        }
    }

    /// Calls `handler` once with the exit status: on the reaper thread when the child
    /// exits, or immediately on this thread if it already has.
    public func onExit(_ handler: @escaping @Sendable (ExitStatus) -> Void) {
        let status: ExitStatus? = state.withLock { state in
            if let status = state.exitStatus { return status }
            state.exitHandlers.append(handler)
            return nil
        }
        if let status { handler(status) }
    }

    /// Blocks until the child has exited (and been reaped) or `timeout` has passed;
    /// nil on timeout. nil `timeout` waits indefinitely.
    @discardableResult
    public func waitForExit(timeout: Duration? = nil) -> ExitStatus? {
        if let status = exitStatus { return status }
        let exited = DispatchSemaphore(value: 0)
        onExit { _ in exited.signal() }
        if let timeout, Self.nanoseconds(timeout) < Int(Int32.max) * 1_000_000_000 {
            _ = exited.wait(timeout: .now() + .nanoseconds(Self.nanoseconds(timeout)))
        } else {
            exited.wait()
        }
        return exitStatus
    }

    /// Stops the child: SIGTERM to its process group, up to `gracePeriod` to exit, then
    /// SIGKILL to the group. Always returns once the child has been reaped.
    @discardableResult
    public func terminate(gracePeriod: Duration) -> ExitStatus {
        if let status = exitStatus { return status }
        signal(SIGTERM)
        signal(SIGCONT)  // a stopped child would not act on SIGTERM until continued
        if let status = waitForExit(timeout: gracePeriod) { return status }
        signal(SIGKILL)
        guard let status = waitForExit(timeout: nil) else {
            preconditionFailure("waitForExit without a timeout returned before the child exited")
        }
        return status
    }

    // MARK: Reaping

    private func startReaper() {
        let thread = Thread { [self] in reap() }
        thread.name = "reaper \(pid)"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    private func reap() {
        // Wait without reaping first: until the lock below is taken, the zombie keeps the
        // pid (and process group id) from being reused, which `signal` relies on.
        while pb_wait_exited_no_reap(pid) == -1 && pb_errno() == EINTR {}
        let (status, handlers) = state.withLock { state in
            var raw: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &raw, 0) } while result == -1 && pb_errno() == EINTR
            // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1)
            // elsewhere); the real status is lost.
            let status = result == pid ? ExitStatus(waitStatus: raw) : .exited(-1)
            OrphanReaper.ownChildren.withLock { _ = $0.remove(pid) }
            state.exitStatus = status
            let handlers = state.exitHandlers
            state.exitHandlers = []
            return (status, handlers)
        }
        for handler in handlers { handler(status) }
    }

    // MARK: Helpers

    private static func resolveExecutable(_ configuration: Configuration) throws(SpawnError) -> String {
        let name = configuration.executable
        if name.contains("/") { return name }
        let searchPath = configuration.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        var denied: String?
        for entry in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (entry.isEmpty ? "." : String(entry)) + "/" + name
            var info = stat()
            guard stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
            if denied == nil { denied = candidate }
        }
        let reason: SpawnError.Reason =
            if let denied { .cannotExecute(path: denied, errno: EACCES) } else { .commandNotFound(searchPath: searchPath) }
        throw SpawnError(
            executable: name, workingDirectory: configuration.workingDirectory, reason: reason)
    }

    /// nil if `path` is a directory we can enter, else the errno explaining why not.
    private static func unusableDirectory(_ path: String) -> Int32? {
        var info = stat()
        if stat(path, &info) != 0 { return pb_errno() }
        if (info.st_mode & S_IFMT) != S_IFDIR { return ENOTDIR }
        if access(path, X_OK) != 0 { return pb_errno() }
        return nil
    }

    static func nanoseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        if seconds > Int64(Int.max / 1_000_000_000) - 1 { return Int.max }
        return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}

/// Calls `body` with a NULL-terminated array of C strings copied from `strings`.
private func withCStringArray<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
