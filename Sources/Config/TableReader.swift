import TOML

/// Reads typed keys out of one TOML table, logging a located error for each problem instead of stopping.
struct TableReader {
    let table: TOMLTable
    /// How messages name the table: `[servers.demo]`, or `the top level`.
    let name: String
    let log: ConfigErrorLog

    /// Logs every key not in `known`, suggesting the closest known key.
    func rejectUnknownKeys(known: [String]) {
        for entry in table.entries where !known.contains(entry.key) {
            var message = "unknown key \"\(entry.key)\" in \(name)"
            if let suggestion = KeySuggestion.closest(to: entry.key, among: known) {
                message += " (did you mean \"\(suggestion)\"?)"
            }
            log.add(message, at: entry.keyLocation)
        }
    }

    func entry(_ key: String) -> TOMLTable.Entry? { table.entry(key) }

    func wrongType(_ key: String, expected: String, found entry: TOMLTable.Entry) {
        log.add("`\(key)` must be \(expected), found \(entry.value.typeName)", at: entry.valueLocation)
    }

    func string(_ key: String) -> String? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.stringValue else {
            wrongType(key, expected: "a string", found: entry)
            return nil
        }
        return value
    }

    func bool(_ key: String) -> Bool? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.boolValue else {
            wrongType(key, expected: "true or false", found: entry)
            return nil
        }
        return value
    }

    func integer(_ key: String, minimum: Int64) -> Int? {
        guard let entry = entry(key) else { return nil }
        guard let value = entry.value.integerValue else {
            wrongType(key, expected: "an integer", found: entry)
            return nil
        }
        guard value >= minimum else {
            log.add("`\(key)` must be at least \(minimum), found \(value)", at: entry.valueLocation)
            return nil
        }
        return Int(value)
    }

    /// A duration written as `"250ms"`, `"10s"`, `"2m"`, `"1h"` or a number of seconds.
    func duration(_ key: String) -> TimeSpan? {
        guard let entry = entry(key) else { return nil }
        let parsed: TimeSpan?
        switch entry.value {
        case .string(let text): parsed = TimeSpan(parsing: text)
        case .integer, .float: parsed = TimeSpan(seconds: entry.value.numberValue!)
        default:
            wrongType(key, expected: "a duration such as \"10s\" or a number of seconds", found: entry)
            return nil
        }
        guard let parsed else {
            log.add("`\(key)` must be a non-negative duration such as \"250ms\", \"10s\", \"2m\", \"1h\" or a number of seconds, found \(shown(entry.value))", at: entry.valueLocation)
            return nil
        }
        return parsed
    }

    func stringArray(_ key: String) -> [String]? {
        guard let entry = entry(key) else { return nil }
        guard let array = entry.value.arrayValue else {
            wrongType(key, expected: "an array of strings", found: entry)
            return nil
        }
        var strings: [String] = []
        for (index, value) in array.enumerated() {
            guard let string = value.stringValue else {
                log.add("`\(key)` must be an array of strings, found \(value.typeName) at element \(index + 1)", at: array.location(at: index))
                return nil
            }
            strings.append(string)
        }
        return strings
    }

    /// Globs from `key`, each checked for syntax.
    func globArray(_ key: String) -> [String]? {
        guard let globs = stringArray(key), let array = entry(key)?.value.arrayValue else { return nil }
        for (index, glob) in globs.enumerated() {
            do throws(GlobPattern.SyntaxError) {
                _ = try GlobPattern(glob)
            } catch {
                log.add("in `\(key)`: \(error)", at: array.location(at: index))
            }
        }
        return globs
    }

    func subtable(_ key: String) -> TOMLTable? {
        guard let entry = entry(key) else { return nil }
        guard let table = entry.value.tableValue else {
            wrongType(key, expected: "a table", found: entry)
            return nil
        }
        return table
    }

    /// One of an enumeration's raw values.
    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of: Choice.Type) -> Choice? where Choice.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let options = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            log.add("`\(key)` must be one of \(options), found \"\(text)\"", at: entry(key)?.valueLocation)
            return nil
        }
        return choice
    }

    private func shown(_ value: TOMLValue) -> String {
        if let text = value.stringValue { return "\"\(text)\"" }
        if let number = value.integerValue { return "\(number)" }
        if let number = value.floatValue { return "\(number)" }
        return value.typeName
    }
}
