/// Why a plugin call produced nothing usable; `description` names the plugin and the phase.
public struct PluginFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case timedOut(seconds: Double)
        /// The worker exited (or was killed) while the call was in it.
        case crashed(status: String)
        /// The plugin threw or its promise rejected.
        case threw(message: String)
        /// The plugin returned something that is not a valid output.
        case invalidOutput(reason: String)
        /// No worker could load the plugin (syntax error, failed import, no usable export).
        case unavailable(reason: String)
        /// The plugin has no hook for this phase although the chain asks for one.
        case noHook

        /// A stable name for logs, counters and the `kind` field of error data.
        public var name: String {
            switch self {
            case .timedOut: "timeout"
            case .crashed: "crash"
            case .threw: "thrown"
            case .invalidOutput: "invalid_output"
            case .unavailable: "unavailable"
            case .noHook: "no_hook"
            }
        }
    }

    public let plugin: String
    public let phase: PluginPhase
    public let kind: Kind

    public init(plugin: String, phase: PluginPhase, kind: Kind) {
        self.plugin = plugin
        self.phase = phase
        self.kind = kind
    }

    public var description: String {
        let what: String
        switch kind {
        case .timedOut(let seconds): what = "timed out after \(seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)")s"
        case .crashed(let status): what = "its worker \(status) during the call"
        case .threw(let message): what = "threw: \(message)"
        case .invalidOutput(let reason): what = "returned invalid output: \(reason)"
        case .unavailable(let reason): what = "could not be loaded: \(reason)"
        case .noHook: what = "has no \(phase) hook"
        }
        return "plugin '\(plugin)' (\(phase) phase) \(what)"
    }
}
