/// Every problem found while loading a configuration, so all can be fixed in one pass.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One error per line, in file order.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
