/// A request line and its header fields.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    /// As received: origin form `/path?query`, absolute form `http://host/path`, `host:port`
    /// for CONNECT, or `*`. Setting it updates `path` and `query`.
    public var target: String {
        didSet { (path, query) = Self.components(of: target) }
    }
    /// The target's path, before any `?`, percent-encoding left as is.
    public private(set) var path: String
    /// The target's query, after the first `?`.
    public private(set) var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        (path, query) = Self.components(of: target)
    }

    /// Whether the client wants the connection kept after this exchange: HTTP/1.1 unless it
    /// sent `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        return version == .http1_1 || headers.containsToken("keep-alive", in: "Connection")
    }

    /// `METHOD target HTTP/1.1`, the header fields and the empty line, as a client sends them.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(method.utf8.count + target.utf8.count + headers.serializedSizeEstimate + 16)
        HTTPHeaders.appendSanitized(method, to: &bytes)
        bytes.append(ASCII.space)
        HTTPHeaders.appendSanitized(target, to: &bytes)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: version.description.utf8)
        bytes.append(ASCII.carriageReturn)
        bytes.append(ASCII.lineFeed)
        headers.serialize(into: &bytes)
        bytes.append(ASCII.carriageReturn)
        bytes.append(ASCII.lineFeed)
        return bytes
    }

    private static func components(of target: String) -> (String, String?) {
        let (path, query) = RequestTarget.components(of: target)
        return (String(path), query.map(String.init))
    }
}
