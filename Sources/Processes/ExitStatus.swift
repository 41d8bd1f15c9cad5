import CSystemShims

/// How a child process ended (the same type as `ChildProcess.ExitStatus`). In files that also
/// import Testing, which declares its own `ExitStatus`, spell it `ChildProcess.ExitStatus`.
public typealias ExitStatus = ChildProcess.ExitStatus

extension ChildProcess {
    /// How a child process ended.
    ///
    /// Nested in `ChildProcess` because Swift Testing also declares a top-level `ExitStatus`.
    public enum ExitStatus: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// It called exit with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)

        /// Decodes a wait status as returned by waitpid.
        public init(waitStatus: Int32) {
            if pb_wifexited(waitStatus) != 0 {
                self = .exited(pb_wexitstatus(waitStatus))
            } else {
                self = .signaled(pb_wtermsig(waitStatus))
            }
        }

        /// True for `.exited(0)`.
        public var isSuccess: Bool { self == .exited(0) }

        /// "exited with status 3", "killed by SIGKILL".
        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "killed by \(signalName(signal))"
            }
        }
    }
}
