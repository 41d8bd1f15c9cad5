import TOML

/// One problem in the configuration, with where it was written when that is known.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: TOMLLocation?
    public var message: String

    public init(_ message: String, at location: TOMLLocation? = nil) {
        self.location = location
        self.message = message
    }

    /// `file:line:col: message`, or just the message when there is no location.
    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}
