import TOML

/// Merges a `conf.d` fragment into the tables read so far.
///
/// Tables merge key by key; a key set in both is an error naming both places.
/// A server (`[servers.NAME]`) belongs to one file: defining it again is an error.
enum FragmentMerger {
    static func merge(_ fragment: TOMLTable, into base: inout TOMLTable, log: ConfigErrorLog) {
        merge(fragment, into: &base, path: [], log: log)
    }

    private static func merge(_ fragment: TOMLTable, into base: inout TOMLTable, path: [String], log: ConfigErrorLog) {
        for entry in fragment.entries {
            guard let existing = base.entry(entry.key) else {
                base.set(entry)
                continue
            }
            let keyPath = (path + [entry.key]).joined(separator: ".")
            if path == ["servers"] {
                log.add("server \"\(entry.key)\" is already defined at \(existing.keyLocation)", at: entry.keyLocation)
            } else if case .table(var merged) = existing.value, case .table(let addition) = entry.value {
                merge(addition, into: &merged, path: path + [entry.key], log: log)
                base.set(.init(key: entry.key, value: .table(merged), keyLocation: existing.keyLocation, valueLocation: existing.valueLocation))
            } else {
                log.add("`\(keyPath)` is already set at \(existing.keyLocation)", at: entry.keyLocation)
            }
        }
    }
}
