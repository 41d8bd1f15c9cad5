import JSON

/// How long a result may be reused and by whom (server/utilities/caching.mdx).
struct CacheHint: Equatable {
    var ttlMs: Int64
    var isPublic: Bool

    /// What a legacy server's result allows: nothing (it says nothing of freshness).
    static let none = CacheHint(ttlMs: 0, isPublic: false)

    init(ttlMs: Int64, isPublic: Bool) {
        self.ttlMs = max(0, ttlMs)
        self.isPublic = isPublic
    }

    /// The hints a modern server's result carries; a missing or negative TTL counts as 0.
    init(result: JSONValue) {
        self.init(ttlMs: result["ttlMs"]?.int64Value ?? 0, isPublic: result["cacheScope"]?.stringValue == "public")
    }

    /// Hints for a result merged from several: the shortest freshness, public only if all are.
    func combined(with other: CacheHint) -> CacheHint {
        CacheHint(ttlMs: min(ttlMs, other.ttlMs), isPublic: isPublic && other.isPublic)
    }

    var cacheScope: String { isPublic ? "public" : "private" }
}

/// Upstream list pages plugboard reuses for their `ttlMs`, so many stateless clients asking
/// for the same list cost the server one request per TTL. Only public results are kept:
/// a private one belongs to the client it was made for.
struct ListCache {
    struct Key: Hashable {
        let server: String
        let method: String
        /// The page's cursor as JSON text; empty for the first page.
        let cursor: [UInt8]
    }

    private struct Entry {
        let result: JSONValue
        let expiresAt: UInt64
    }

    private var entries: [Key: Entry] = [:]
    private(set) var hits = 0
    private(set) var misses = 0
    /// Pages fetched from servers for the cache: what clients' list requests cost the servers.
    var fetches = 0
    static let maxEntries = 4096

    /// A fresh result for `key`, with `ttlMs` lowered to what freshness it has left.
    mutating func lookup(_ key: Key, now: UInt64) -> JSONValue? {
        guard let entry = entries[key] else {
            misses += 1
            return nil
        }
        guard now < entry.expiresAt else {
            entries[key] = nil
            misses += 1
            return nil
        }
        hits += 1
        guard case .object(var result) = entry.result else { return entry.result }
        result["ttlMs"] = .number(JSONNumber(Int64((entry.expiresAt - now) / 1_000_000)))
        return .object(result)
    }

    mutating func store(_ result: JSONValue, for key: Key, now: UInt64) {
        let hint = CacheHint(result: result)
        guard hint.isPublic, hint.ttlMs > 0 else { return }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[key] = Entry(result: result, expiresAt: now + UInt64(hint.ttlMs) * 1_000_000)
    }

    /// A server said its list changed, or restarted: what it said before is stale.
    mutating func invalidate(server: String, method: String? = nil) {
        entries = entries.filter { key, _ in !(key.server == server && (method == nil || key.method == method)) }
    }

    var count: Int { entries.count }
}
