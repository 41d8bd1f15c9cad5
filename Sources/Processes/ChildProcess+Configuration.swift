import CSystemShims

extension ChildProcess {
    /// Where one of the child's standard streams goes.
    public enum Redirect: Sendable, Equatable {
        /// A new pipe; the parent's end appears on the `ChildProcess`.
        case pipe
        /// The parent's own descriptor.
        case inherit
        /// /dev/null.
        case discard
    }

    /// What to run and how.
    public struct Configuration: Sendable, Equatable {
        /// A path, or a name without "/" looked up in the PATH of `environment`
        /// (or /usr/local/bin:/usr/bin:/bin when it has none).
        public var executable: String
        /// Arguments after argv[0] (which is `executable` as written).
        public var arguments: [String]
        /// The child's complete environment.
        public var environment: [String: String]
        /// nil: the parent's working directory.
        public var workingDirectory: String?
        public var standardInput: Redirect
        public var standardOutput: Redirect
        /// Defaults to `.inherit`: a `.pipe` must be drained, or the child blocks once
        /// 64 KiB is written to it.
        public var standardError: Redirect
        /// Given to the child as descriptors `firstPassedDescriptor` (3), 4, … in order (a control
        /// socketpair's end, listening sockets); the caller keeps and closes its own copies.
        public var passedDescriptors: [FileDescriptor]

        public init(
            executable: String,
            arguments: [String] = [],
            environment: [String: String] = ChildProcess.inheritedEnvironment(),
            workingDirectory: String? = nil,
            standardInput: Redirect = .pipe,
            standardOutput: Redirect = .pipe,
            standardError: Redirect = .inherit,
            passedDescriptors: [FileDescriptor] = []
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.standardInput = standardInput
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.passedDescriptors = passedDescriptors
        }
    }

    /// This process's environment, read from `environ`.
    public static func inheritedEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        guard var entry = pb_environ() else { return result }
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                let key = String(pair[..<equals])
                if result[key] == nil { result[key] = String(pair[pair.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }
}
