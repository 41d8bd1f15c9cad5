/// A configured value that may hold a credential (a header, a token). Its text is reachable only
/// through `revealed`; every description of it, in logs, status and errors, is a placeholder.
public struct SecretText: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let revealed: String

    public init(_ revealed: String) {
        self.revealed = revealed
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
