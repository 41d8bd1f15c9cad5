import Config
import HTTP

/// The checks every request to the MCP endpoint passes before it reaches a session: the
/// `Origin` rule against DNS rebinding, and the optional bearer token.
struct RequestGate {
    enum Refusal: Equatable {
        case forbiddenOrigin(String)
        case missingToken
        case wrongToken
    }

    let allowedOrigins: [String]
    /// The token clients must present; nil: no authentication.
    let token: [UInt8]?

    /// An absent `Origin` is allowed (non-browser clients send none); a present one must be a
    /// loopback origin or listed in `allowed_origins`.
    func check(_ headers: HTTPHeaders) -> Refusal? {
        if let origin = headers["Origin"], !isAllowed(origin: origin) {
            return .forbiddenOrigin(origin)
        }
        guard let token else { return nil }
        guard let authorization = headers["Authorization"] else { return .missingToken }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .missingToken }
        return Self.constantTimeEqual(Array(parts[1].utf8), token) ? nil : .wrongToken
    }

    func isAllowed(origin: String) -> Bool {
        if allowedOrigins.contains(origin) || allowedOrigins.contains("*") { return true }
        guard let url = HTTPURL(origin), url.scheme == "http" || url.scheme == "https" else { return false }
        return ["localhost", "127.0.0.1", "::1"].contains(url.host)
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in 0..<expected.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
