import JSON

/// Tokens in and out of the plugins that report them (`originalTokens` and `keptTokens` in
/// their metadata, as curate does), per plugin and server: what `/metrics` and the status dump
/// show of what plugins saved.
public struct TokenSavings: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public let plugin: String
        public let server: String
        public static func < (a: Key, b: Key) -> Bool { (a.plugin, a.server) < (b.plugin, b.server) }
    }

    public struct Count: Sendable, Equatable {
        public var calls = 0
        public var tokensIn = 0
        public var tokensOut = 0
    }

    public private(set) var counts: [Key: Count] = [:]

    public init() {}

    /// Records a plugin's metadata when it reports tokens; anything else is ignored.
    mutating func record(plugin: String, server: String, metadata: JSONObject) {
        guard let original = metadata["originalTokens"]?.int64Value, let kept = metadata["keptTokens"]?.int64Value,
            original >= 0, kept >= 0
        else { return }
        counts[Key(plugin: plugin, server: server), default: Count()].calls += 1
        counts[Key(plugin: plugin, server: server)]?.tokensIn += Int(original)
        counts[Key(plugin: plugin, server: server)]?.tokensOut += Int(kept)
    }

    var json: JSONObject {
        var result: JSONObject = [:]
        for (key, count) in counts.sorted(by: { $0.key < $1.key }) {
            var servers = result[key.plugin]?.objectValue ?? [:]
            servers[key.server] = [
                "calls": .number(JSONNumber(count.calls)), "tokensIn": .number(JSONNumber(count.tokensIn)),
                "tokensOut": .number(JSONNumber(count.tokensOut)),
            ]
            result[key.plugin] = .object(servers)
        }
        return result
    }

    /// "curate: 10,240 → 1,930 tokens (−81%)" for each plugin whose metadata in `result` says so.
    public static func lines(for result: JSONValue) -> [String] {
        guard let plugins = result["_meta"]?["dev.plugboard/plugins"]?.objectValue else { return [] }
        return plugins.compactMap { name, metadata in
            guard let original = metadata["originalTokens"]?.int64Value, let kept = metadata["keptTokens"]?.int64Value, original > 0 else {
                return nil
            }
            let percent = Int(((1 - Double(kept) / Double(original)) * 100).rounded())
            var line = "\(name): \(grouped(original)) → \(grouped(kept)) tokens (−\(percent)%)"
            if let sectionsKept = metadata["sectionsKept"]?.int64Value, let total = metadata["sectionsTotal"]?.int64Value {
                line += ", \(sectionsKept) of \(total) sections kept"
            }
            return line
        }
    }

    /// 10240 → "10,240".
    static func grouped(_ number: Int64) -> String {
        let digits = Array(String(number.magnitude))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return number < 0 ? "-" + text : text
    }
}
