/// What a response parser reads, in order: the head, body bytes as they arrive (chunked
/// bodies decoded), then the end of the response.
public enum HTTPResponseEvent: Sendable, Equatable {
    case head(HTTPResponseHead)
    case body([UInt8])
    case end
}
