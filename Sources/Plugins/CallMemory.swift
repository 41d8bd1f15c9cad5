import Config
import JSON

/// What the plugins of one call carry between steps, wherever each step runs: the `state` a
/// request-phase entry leaves for the same entry's response phase, and the `context` object
/// every entry of the call's chains may read and replace. Both are bounded.
public final class CallMemory {
    private var states: [String: JSONValue] = [:]
    public private(set) var context: JSONObject = [:]

    public init() {}

    /// The `state` the request-phase entry `key` left, if any.
    func state(for key: String) -> JSONValue? { states[key] }

    func remember(state: JSONValue, for key: String) { states[key] = state }

    func replace(context: JSONObject) { self.context = context }

    /// Which entry of a phase's chain `index` is, as both phases name it: the plugin and how
    /// many entries of the same plugin come before it, so the second `audit` of the request
    /// chain meets the second `audit` of the response chain.
    static func key(of index: Int, in entries: [PluginChainEntry]) -> String {
        let plugin = entries[index].plugin
        let earlier = entries[..<index].filter { $0.plugin == plugin }.count
        return "\(plugin)#\(earlier)"
    }
}
