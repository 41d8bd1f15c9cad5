import Glibc
import Processes

extension EventLoop {
    /// Stops `process` unless it exits on its own first: SIGTERM once `termAfter` nanoseconds
    /// have passed (0: now), SIGKILL at `killAfter`, each only while it still runs. `note` hears
    /// the name of each signal sent late, for the log.
    public func escalate(
        _ process: ChildProcess, termAfter: UInt64, killAfter: UInt64, note: @escaping (String) -> Void = { _ in }
    ) {
        func send(_ signal: Int32) {
            guard process.exitStatus == nil else { return }
            note(signalName(signal))
            process.signal(signal)
        }
        if termAfter == 0 {
            process.signal(SIGTERM)
        } else {
            schedule(afterNanoseconds: termAfter) { send(SIGTERM) }
        }
        schedule(afterNanoseconds: killAfter) { send(SIGKILL) }
    }
}
