import JSON

/// `plugboard plugin run --explain`: what a plugin said of its choices (`metadata.explain`, as
/// curate writes it), one line per section, for a person tuning its configuration.
public enum PluginExplanation {
    /// `input` with `config.explain = true`: the plugin is asked to explain.
    public static func asking(_ input: JSONValue) -> JSONValue {
        guard var object = input.objectValue else { return input }
        var config = object["config"]?.objectValue ?? [:]
        config["explain"] = true
        object["config"] = .object(config)
        return .object(object)
    }

    /// The report for `output`, or nil when the plugin explained nothing.
    public static func report(of output: JSONValue?) -> String? {
        guard let explain = output?["metadata"]?["explain"]?.objectValue else { return nil }
        var lines: [String] = []
        if let query = explain["query"]?.objectValue {
            let terms = query["terms"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
            lines.append("query terms: \(terms)")
            if let variant = query["variant"]?.objectValue {
                let named = variant["named"]?.objectValue ?? [:]
                let parts = ["module", "style"].compactMap { key in
                    variant[key]?.stringValue.map { "\($0) (\(named[key]?.boolValue == true ? "named by the query" : "the default"))" }
                }
                if !parts.isEmpty { lines.append("variant: \(parts.joined(separator: ", "))") }
            }
        }
        if let budget = explain["budget"]?.objectValue {
            lines.append("budget: \(number(budget["maxTokens"])) tokens, \(number(budget["forBody"])) for the sections")
        }
        if explain["threshold"] != nil {
            lines.append("kept when the score is at least \(number(explain["threshold"])) (top score \(number(explain["topScore"])))")
        }
        for section in explain["sections"]?.arrayValue ?? [] {
            let mark = ["whole": "✔", "part": "◐"][section["kept"]?.stringValue ?? ""] ?? "✗"
            let matched = section["matched"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let reasons = section["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var line = "\(mark) \(number(section["score"]).padded(to: 6)) \(number(section["tokens"]).padded(to: 6)) tok  \(section["heading"]?.stringValue ?? "?")"
            if !matched.isEmpty { line += "  [\(matched.joined(separator: ", "))]" }
            if !reasons.isEmpty { line += "  — \(reasons.joined(separator: "; "))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: JSONValue?) -> String {
        guard let value = value?.doubleValue else { return "-" }
        return value == value.rounded() ? String(Int(value)) : String((value * 100).rounded() / 100)
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
