/// The four forms of a request target (RFC 9112 §3.2) and how the path and query are read
/// from them.
enum RequestTarget {
    /// Refuses a target whose form the method does not allow: `*` is for OPTIONS only, and
    /// CONNECT takes `host:port` and nothing else. Whether to serve CONNECT is the server's call.
    static func checkForm(of target: String, method: String) throws(HTTPParseError) {
        if method == "CONNECT" {
            guard isAuthorityForm(target) else { throw .badRequest("CONNECT needs a host:port target") }
            return
        }
        if target.utf8.first == ASCII.slash { return }
        if target == "*" {
            guard method == "OPTIONS" else { throw .badRequest("the * target is only for OPTIONS") }
            return
        }
        guard let authorityStart = absoluteFormAuthorityStart(target) else {
            throw .badRequest("request target is neither a path, an absolute http(s) URL, host:port for CONNECT, nor *")
        }
        let authorityEnd = target.utf8[authorityStart...].firstIndex { $0 == ASCII.slash || $0 == ASCII.questionMark } ?? target.endIndex
        guard authorityStart < authorityEnd else { throw .badRequest("absolute request target without a host") }
    }

    /// The path (before `?`, percent-encoding kept) and the query (after it). An absolute-form
    /// target gives its path, `/` when empty; authority and asterisk forms give the target itself.
    static func components(of target: String) -> (path: Substring, query: Substring?) {
        let utf8 = target.utf8
        var pathStart = utf8.startIndex
        if let authorityStart = absoluteFormAuthorityStart(target) {
            guard let afterAuthority = utf8[authorityStart...].firstIndex(where: { $0 == ASCII.slash || $0 == ASCII.questionMark }) else {
                return ("/", nil)
            }
            pathStart = afterAuthority
        } else if utf8.first != ASCII.slash {
            return (target[...], nil)
        }
        guard let questionMark = utf8[pathStart...].firstIndex(of: ASCII.questionMark) else {
            return (target[pathStart...], nil)
        }
        let path = pathStart == questionMark ? "/" : target[pathStart..<questionMark]
        return (path, target[utf8.index(after: questionMark)...])
    }

    /// Where the authority starts in `http://…` or `https://…` (scheme in any case), or nil.
    private static func absoluteFormAuthorityStart(_ target: String) -> String.Index? {
        let utf8 = target.utf8
        for scheme in ["http://", "https://"] where utf8.count >= scheme.utf8.count {
            let end = utf8.index(utf8.startIndex, offsetBy: scheme.utf8.count)
            if utf8[..<end].elementsEqual(scheme.utf8, by: { ASCII.lowercased($0) == $1 }) { return end }
        }
        return nil
    }

    /// `host:port`: something before a colon, digits after it, no slash.
    private static func isAuthorityForm(_ target: String) -> Bool {
        guard let colon = target.utf8.lastIndex(of: ASCII.colon), colon > target.startIndex, !target.utf8.contains(ASCII.slash) else {
            return false
        }
        let port = target.utf8[target.utf8.index(after: colon)...]
        return !port.isEmpty && port.allSatisfy(ASCII.isDigit)
    }
}
