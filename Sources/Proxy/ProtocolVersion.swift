/// The MCP protocol revisions plugboard speaks, newest first.
public enum ProtocolVersion {
    public static let supported = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    public static let latest = supported[0]

    /// The spec's rule: answer with the client's version when we support it, else our latest.
    public static func negotiate(requested: String?) -> String {
        guard let requested, supported.contains(requested) else { return latest }
        return requested
    }
}
