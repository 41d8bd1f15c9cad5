import Cryptography

/// PKCE (RFC 7636) with S256: a fresh verifier per authorization request, and its challenge.
public struct PKCE: Sendable, Equatable {
    public let verifier: String
    public var challenge: String { Self.challenge(for: verifier) }
    public static let method = "S256"

    public init(verifier: String) {
        self.verifier = verifier
    }

    /// 32 random bytes: a 43-character verifier, the shortest RFC 7636 allows and ample.
    public static func random() -> PKCE { PKCE(verifier: Base64.urlEncoded(Digest.randomBytes(32))) }

    public static func challenge(for verifier: String) -> String { Base64.urlEncoded(Digest.sha256(Array(verifier.utf8))) }
}

/// One authorization request and what its answer is checked against: the PKCE verifier, the
/// `state`, and the issuer recorded from the authorization server's validated metadata.
public struct AuthorizationAttempt: Sendable {
    public let pkce: PKCE
    public let state: String
    public let issuer: String
    /// Whether the server promised `iss` on every response (RFC 9207 §2.3).
    public let issuerParameterRequired: Bool
    public let redirectURI: String
    public let clientID: String
    public let resource: String
    public let scopes: [String]

    public init(
        metadata: AuthorizationServerMetadata, redirectURI: String, clientID: String, resource: String, scopes: [String],
        pkce: PKCE = .random(), state: String = Base64.urlEncoded(Digest.randomBytes(24))
    ) {
        self.pkce = pkce
        self.state = state
        self.issuer = metadata.issuer
        self.issuerParameterRequired = metadata.issParameterSupported
        self.redirectURI = redirectURI
        self.clientID = clientID
        self.resource = resource
        self.scopes = scopes
    }

    /// The URL the person opens: the authorization endpoint with the code request (OAuth 2.1 §4.1.1).
    public func url(endpoint: String) -> String {
        var fields = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI),
            ("code_challenge", pkce.challenge), ("code_challenge_method", PKCE.method), ("state", state), ("resource", resource),
        ]
        if !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: " "))) }
        return endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(fields)
    }

    /// The code from the redirect's query, once it passes the checks in the order the spec
    /// sets: `iss` first (RFC 9207 §2.4; on a mismatch nothing else in the answer is trusted),
    /// then `state`, then any `error`.
    public func code(fromRedirectQuery query: String) throws(OAuthError) -> String {
        var fields: [String: String] = [:]
        for (name, value) in FormEncoding.decode(query) where fields[name] == nil { fields[name] = value }
        if let iss = fields["iss"] {
            guard iss == issuer else { throw .authorizationResponse("its issuer is \"\(iss)\", expected \"\(issuer)\" (RFC 9207): possible mix-up attack") }
        } else if issuerParameterRequired {
            throw .authorizationResponse("it has no `iss` although \(issuer) advertises authorization_response_iss_parameter_supported (RFC 9207)")
        }
        guard let returned = fields["state"], Digest.constantTimeEquals(Array(returned.utf8), Array(state.utf8)) else {
            throw .authorizationResponse("its `state` does not match the request's (a forged or stale redirect)")
        }
        if let error = fields["error"] {
            throw .authorizationResponse("the authorization server answered \(error)\(fields["error_description"].map { ": \($0)" } ?? "")")
        }
        guard let code = fields["code"], !code.isEmpty else { throw .authorizationResponse("it carries no `code`") }
        return code
    }
}
