/// Why bytes received are not an acceptable HTTP/1.1 message, with the status a server
/// answers it with.
///
/// `reason` names what was wrong and where (the header name, the limit) but never a header
/// value, which may be a secret.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 413, 414, 431, 501 (unsupported transfer coding) or 505 (HTTP version) for a
    /// request; 502 for anything wrong with a response.
    public let status: Int
    public let reason: String

    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String {
        "\(status) \(HTTPStatus.reasonPhrase(for: status)): \(reason)"
    }

    static func badRequest(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }

    static func badGateway(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 502, reason: reason)
    }
}
