/// The MCP protocol revisions plugboard speaks, newest first, in two eras: modern revisions
/// carry version and capabilities on every request (`_meta`); legacy ones open with `initialize`.
public enum ProtocolVersion {
    public static let modern = ["2026-07-28"]
    public static let legacy = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// Every revision, as `server/discover` and `UnsupportedProtocolVersionError` list them.
    public static let supported = modern + legacy
    public static let latestModern = modern[0]
    public static let latestLegacy = legacy[0]
    /// The one revision whose servers must accept JSON-RPC batches (later ones removed them).
    public static let batching = "2025-03-26"

    public static func isModern(_ version: String) -> Bool { modern.contains(version) }

    /// The handshake's rule: answer with the client's legacy version when we support it, else our latest legacy one.
    public static func negotiate(requested: String?) -> String {
        guard let requested, legacy.contains(requested) else { return latestLegacy }
        return requested
    }
}

/// Which kind of revision a peer or a request speaks.
public enum ProtocolEra: String, Sendable {
    case legacy
    case modern
}
