/// Builds the Prometheus text exposition format (version 0.0.4): `# HELP`/`# TYPE` once per
/// metric family, then its samples with escaped label values.
public struct PrometheusText {
    public enum Kind: String { case counter, gauge, histogram }

    private var output = ""
    private var declared: Set<String> = []

    public init() {}

    public var text: String { output }

    public mutating func declare(_ name: String, _ kind: Kind, help: String) {
        guard declared.insert(name).inserted else { return }
        output += "# HELP \(name) \(help.replacingBackslashesAndNewlines())\n# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Double) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " " + Self.format(value) + "\n"
    }

    public mutating func sample(_ name: String, labels: [(String, String)] = [], _ value: Int) {
        sample(name, labels: labels, Double(value))
    }

    /// A histogram from cumulative counts per upper bound (seconds), its sum and count.
    public mutating func histogram(_ name: String, labels: [(String, String)], buckets: [(upperBound: Double, cumulativeCount: Int)], sum: Double, count: Int) {
        for bucket in buckets {
            sample("\(name)_bucket", labels: labels + [("le", Self.format(bucket.upperBound))], Double(bucket.cumulativeCount))
        }
        sample("\(name)_bucket", labels: labels + [("le", "+Inf")], Double(count))
        sample("\(name)_sum", labels: labels, sum)
        sample("\(name)_count", labels: labels, Double(count))
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension String {
    fileprivate func replacingBackslashesAndNewlines() -> String {
        var result = ""
        for character in self {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
