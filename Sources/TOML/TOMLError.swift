/// Why a document is not valid TOML, and where.
public struct TOMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: TOMLLocation
    /// What was expected or what is wrong, e.g. "expected `=` after key `name`".
    public var message: String

    public init(location: TOMLLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:col: message`.
    public var description: String { "\(location): \(message)" }
}
