/// Which way a message is travelling when a plugin sees it.
public enum PluginPhase: String, Sendable, Hashable, CustomStringConvertible {
    /// Client to upstream: the plugin may rewrite the arguments or block the call.
    case request
    /// Upstream to client: the plugin may rewrite or withhold the result.
    case response

    public var description: String { rawValue }
}
