import Glibc

/// Why a child process could not be started, with the executable and working directory
/// involved.
public struct SpawnError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Sendable, Equatable {
        /// The name has no "/" and no executable of that name is on the PATH searched.
        case commandNotFound(searchPath: String)
        /// The resolved path could not be executed: missing (ENOENT), not permitted
        /// (EACCES), not an executable format (ENOEXEC), …
        case cannotExecute(path: String, errno: Int32)
        /// The working directory does not exist, is not a directory or cannot be entered.
        case badWorkingDirectory(errno: Int32)
        /// Creating a pipe for the child's standard streams failed.
        case pipeFailed(SystemError)
        /// posix_spawn itself failed.
        case spawnFailed(errno: Int32)
    }

    /// The executable as configured (before PATH resolution).
    public let executable: String
    /// The working directory requested, or nil for the parent's.
    public let workingDirectory: String?
    public let reason: Reason

    public init(executable: String, workingDirectory: String?, reason: Reason) {
        self.executable = executable
        self.workingDirectory = workingDirectory
        self.reason = reason
    }

    public var description: String {
        let start = "cannot start \"\(executable)\""
        let place = workingDirectory.map { " in \($0)" } ?? ""
        switch reason {
        case .commandNotFound(let searchPath):
            return "\(start): command not found in PATH (\(searchPath))"
        case .cannotExecute(let path, let code):
            return "\(start)\(place): cannot execute \(path): \(Self.explain(code))"
        case .badWorkingDirectory(let code):
            return "\(start): working directory \(workingDirectory ?? "?") is unusable: \(Self.explain(code))"
        case .pipeFailed(let error):
            return "\(start)\(place): \(error)"
        case .spawnFailed(let code):
            return "\(start)\(place): posix_spawn failed: \(Self.explain(code))"
        }
    }

    private static func explain(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (\(SystemError.name(ofErrno: code)))"
    }
}
