/// Why an OAuth step failed, worded for the person who has to fix it. Never holds a secret:
/// token endpoint errors carry only the server's `error` and `error_description`.
public enum OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A request could not be made or was not answered.
    case unreachable(url: String, reason: String)
    /// A metadata document was there but unusable.
    case badDocument(url: String, problem: String)
    /// None of the places a document may be had it.
    case notFound(what: String, tried: [String])
    /// An authorization server endpoint that is neither https nor on loopback.
    case insecureEndpoint(url: String)
    /// The authorization server answered a token, registration or revocation request with an error.
    case refused(endpoint: String, status: Int, error: String?, description: String?)
    /// Something the spec requires of the authorization server is missing (PKCE, an endpoint…).
    case unsupported(String)
    /// plugboard has no way to register with this authorization server: what to configure.
    case needsClient(String)
    /// The redirect back from the authorization server failed a check (state, iss, error).
    case authorizationResponse(String)
    /// The login was not completed in time.
    case timedOut(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): "cannot reach \(url): \(reason)"
        case .badDocument(let url, let problem): "the document at \(url) is unusable: \(problem)"
        case .notFound(let what, let tried): "no \(what) found (tried \(tried.joined(separator: ", ")))"
        case .insecureEndpoint(let url): "refusing \(url): authorization server endpoints must use https (or a loopback address)"
        case .refused(let endpoint, let status, let error, let description):
            "\(endpoint) refused the request (HTTP \(status)\(error.map { ", \($0)" } ?? "")\(description.map { ": \($0)" } ?? ""))"
        case .unsupported(let what): what
        case .needsClient(let what): what
        case .authorizationResponse(let problem): "the authorization response was rejected: \(problem)"
        case .timedOut(let what): what
        }
    }

    /// The token endpoint said the grant itself is no good (expired or revoked refresh token):
    /// only a new login helps, so retrying is pointless.
    public var isInvalidGrant: Bool {
        if case .refused(_, _, let error, _) = self { return error == "invalid_grant" || error == "invalid_client" || error == "unauthorized_client" }
        return false
    }
}
