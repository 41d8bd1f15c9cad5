/// An `http://` or `https://` URL: an upstream server, or a browser's `Origin`.
///
/// The scheme and host are lowercased; the port defaults to 80 or 443; the path defaults to
/// `/`; a fragment is dropped. Refused (nil): other schemes, user info (`user@host`), spaces,
/// control characters and non-ASCII bytes (IRIs must be percent-encoded first), bad ports.
public struct HTTPURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// A name, an IPv4 address, or an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// What goes in a request line: the path, and `?query` if there is one.
    public var pathAndQuery: String

    public init?(_ string: String) {
        let bytes = Array(string.utf8)
        guard bytes.allSatisfy(Self.isAllowed), let schemeEnd = Self.schemeEnd(bytes) else { return nil }
        let scheme = String(decoding: bytes[..<schemeEnd].map(ASCII.lowercased), as: UTF8.self)
        guard scheme == "http" || scheme == "https" else { return nil }
        let authorityStart = schemeEnd + 3
        let authorityEnd = bytes[authorityStart...].firstIndex { $0 == ASCII.slash || $0 == ASCII.questionMark || $0 == Self.hash } ?? bytes.count
        guard let (host, port) = Self.hostAndPort(bytes[authorityStart..<authorityEnd]) else { return nil }
        let fragmentStart = bytes[authorityEnd...].firstIndex(of: Self.hash) ?? bytes.count
        var pathAndQuery = String(decoding: bytes[authorityEnd..<fragmentStart], as: UTF8.self)
        if pathAndQuery.utf8.first != ASCII.slash { pathAndQuery = "/" + pathAndQuery }
        self.init(scheme: scheme, host: host, port: port ?? (scheme == "https" ? 443 : 80), pathAndQuery: pathAndQuery)
    }

    private init(scheme: String, host: String, port: Int, pathAndQuery: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathAndQuery = pathAndQuery
    }

    public var isDefaultPort: Bool {
        port == (scheme == "https" ? 443 : 80)
    }

    /// The `Host` header for this URL: the port only when it is not the default, brackets
    /// kept around an IPv6 address.
    public var hostHeader: String {
        let bracketed = host.utf8.contains(ASCII.colon) ? "[\(host)]" : host
        return isDefaultPort ? bracketed : "\(bracketed):\(port)"
    }

    public var description: String {
        "\(scheme)://\(hostHeader)\(pathAndQuery)"
    }

    /// The path without the query.
    public var path: String {
        guard let questionMark = pathAndQuery.utf8.firstIndex(of: ASCII.questionMark) else { return pathAndQuery }
        return String(pathAndQuery[..<questionMark])
    }

    /// The query, after the first `?`.
    public var query: String? {
        guard let questionMark = pathAndQuery.utf8.firstIndex(of: ASCII.questionMark) else { return nil }
        return String(pathAndQuery[pathAndQuery.utf8.index(after: questionMark)...])
    }

    /// The URL a reference found in a document at this URL points to (RFC 3986 §5.2): an
    /// absolute URL, `//host/path`, an absolute path `/x?y`, a query `?y`, or a path relative
    /// to this one's directory; `.` and `..` segments are resolved. Nil when the reference
    /// is unusable (another scheme, spaces, a bad host).
    public func resolving(_ reference: String) -> HTTPURL? {
        let reference = Self.trimmingWhitespace(reference)
        let bytes = Array(reference.utf8)
        if Self.schemeEnd(bytes) != nil || Self.hasOtherScheme(bytes) { return HTTPURL(reference) }
        if bytes.starts(with: [ASCII.slash, ASCII.slash]) { return HTTPURL("\(scheme):\(reference)") }
        guard bytes.allSatisfy(Self.isAllowed) else { return nil }
        let withoutFragment = bytes[..<(bytes.firstIndex(of: Self.hash) ?? bytes.count)]
        let questionMark = withoutFragment.firstIndex(of: ASCII.questionMark) ?? withoutFragment.count
        let referencePath = String(decoding: withoutFragment[..<questionMark], as: UTF8.self)
        let referenceQuery = questionMark < withoutFragment.count
            ? String(decoding: withoutFragment[(questionMark + 1)...], as: UTF8.self) : nil

        let resolvedPath: String
        var resolvedQuery = referenceQuery
        if referencePath.isEmpty {
            resolvedPath = path
            if resolvedQuery == nil { resolvedQuery = query }
        } else if referencePath.utf8.first == ASCII.slash {
            resolvedPath = Self.removingDotSegments(referencePath)
        } else {
            let directory = path.utf8.lastIndex(of: ASCII.slash).map { String(path[...$0]) } ?? "/"
            resolvedPath = Self.removingDotSegments(directory + referencePath)
        }
        let pathAndQuery = resolvedPath + (resolvedQuery.map { "?\($0)" } ?? "")
        return HTTPURL(scheme: scheme, host: host, port: port, pathAndQuery: pathAndQuery)
    }

    // MARK: Parsing pieces

    private static let hash: UInt8 = 0x23

    /// Visible ASCII only.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte)
    }

    /// Where the scheme of `scheme://…` ends, for a scheme of letters only.
    private static func schemeEnd(_ bytes: [UInt8]) -> Int? {
        guard let colon = bytes.firstIndex(of: ASCII.colon), colon > 0,
            bytes[..<colon].allSatisfy({ ASCII.lowercased($0) &- 0x61 < 26 }),
            bytes[colon...].starts(with: [ASCII.colon, ASCII.slash, ASCII.slash])
        else { return nil }
        return colon
    }

    /// `mailto:`, `data:` and the like: a scheme (RFC 3986 §3.1) without `//`.
    private static func hasOtherScheme(_ bytes: [UInt8]) -> Bool {
        guard let colon = bytes.firstIndex(of: ASCII.colon), colon > 0, ASCII.lowercased(bytes[0]) &- 0x61 < 26 else { return false }
        return bytes[..<colon].allSatisfy { ASCII.lowercased($0) &- 0x61 < 26 || ASCII.isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`; the port is nil when absent or empty.
    private static func hostAndPort(_ authority: ArraySlice<UInt8>) -> (String, Int?)? {
        guard !authority.contains(0x40) else { return nil }
        let hostEnd: Int
        let host: ArraySlice<UInt8>
        if authority.first == 0x5B {
            guard let closing = authority.firstIndex(of: 0x5D) else { return nil }
            host = authority[(authority.startIndex + 1)..<closing]
            guard host.contains(ASCII.colon), host.allSatisfy({ ASCII.hexValue($0) != nil || $0 == ASCII.colon || $0 == 0x2E }) else { return nil }
            hostEnd = closing + 1
        } else {
            hostEnd = authority.firstIndex(of: ASCII.colon) ?? authority.endIndex
            host = authority[..<hostEnd]
            guard host.allSatisfy(isHostNameByte) else { return nil }
        }
        guard !host.isEmpty else { return nil }
        let hostText = String(decoding: host.map(ASCII.lowercased), as: UTF8.self)
        guard hostEnd < authority.endIndex else { return (hostText, nil) }
        guard authority[hostEnd] == ASCII.colon else { return nil }
        let digits = authority[(hostEnd + 1)...]
        guard !digits.isEmpty else { return (hostText, nil) }
        guard digits.count <= 5, digits.allSatisfy(ASCII.isDigit), let port = Int(String(decoding: digits, as: UTF8.self)),
            (1...65535).contains(port)
        else { return nil }
        return (hostText, port)
    }

    /// Letters, digits, `-`, `.`, `_`, `~`: names and IPv4 addresses, nothing percent-encoded.
    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        ASCII.lowercased(byte) &- 0x61 < 26 || ASCII.isDigit(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
    }

    /// RFC 3986 §5.2.4, for a path that starts with `/`.
    static func removingDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        var endsWithSlash = false
        for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            endsWithSlash = segment == "." || segment == ".."
            if segment == ".." {
                _ = output.popLast()
            } else if segment != "." {
                output.append(segment)
            }
        }
        return "/" + output.joined(separator: "/") + (endsWithSlash && !output.isEmpty ? "/" : "")
    }

    private static func trimmingWhitespace(_ text: String) -> String {
        let isSpace = { (byte: UInt8) in byte == ASCII.space || byte == ASCII.tab || byte == ASCII.carriageReturn || byte == ASCII.lineFeed }
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }
}
