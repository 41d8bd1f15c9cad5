import TOML

/// Collects errors while the configuration is decoded, so decoding can go on after the first one.
final class ConfigErrorLog {
    private(set) var errors: [ConfigError] = []

    var isEmpty: Bool { errors.isEmpty }

    func add(_ message: String, at location: TOMLLocation? = nil) {
        errors.append(ConfigError(message, at: location))
    }

    /// The errors ordered by file (in `fileOrder`), line and column; errors without a location come last.
    func sorted(fileOrder: [String]) -> [ConfigError] {
        func key(_ error: ConfigError) -> (Int, Int, Int) {
            guard let location = error.location else { return (Int.max, 0, 0) }
            return (fileOrder.firstIndex(of: location.file) ?? fileOrder.count, location.line, location.column)
        }
        return errors.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }
}
