/// An event stream outgrew the parser's limit.
public struct SSEParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public let maxEventBytes: Int

    public init(reason: String, maxEventBytes: Int) {
        self.reason = reason
        self.maxEventBytes = maxEventBytes
    }

    public var description: String {
        "\(reason) (the limit is \(maxEventBytes) bytes); the event was dropped"
    }
}
