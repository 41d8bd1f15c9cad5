/// A status line and its header fields.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    /// A head with the standard reason phrase for `status`.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        self.init(status: status, reason: HTTPStatus.reasonPhrase(for: status), version: .http1_1, headers: headers)
    }

    public init(status: Int, reason: String, version: HTTPVersion, headers: HTTPHeaders) {
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
    }

    /// `HTTP/1.1 200 OK`, the header fields and the empty line.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(reason.utf8.count + headers.serializedSizeEstimate + 20)
        bytes.append(contentsOf: version.description.utf8)
        bytes.append(ASCII.space)
        let code = min(max(status, 0), 999)
        bytes.append(ASCII.zero + UInt8(code / 100))
        bytes.append(ASCII.zero + UInt8(code / 10 % 10))
        bytes.append(ASCII.zero + UInt8(code % 10))
        bytes.append(ASCII.space)
        HTTPHeaders.appendSanitized(reason, to: &bytes)
        bytes.append(ASCII.carriageReturn)
        bytes.append(ASCII.lineFeed)
        headers.serialize(into: &bytes)
        bytes.append(ASCII.carriageReturn)
        bytes.append(ASCII.lineFeed)
        return bytes
    }
}
