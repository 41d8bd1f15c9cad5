import Config
import Cryptography
import HTTP
import JSON

/// What discovery found for one MCP server: its resource identifier, the authorization server
/// chosen from its protected resource metadata, and that server's metadata.
public struct AuthorizationTarget: Sendable, Equatable {
    public var resource: String
    public var resourceMetadata: ProtectedResourceMetadata
    public var server: AuthorizationServerMetadata
    /// The scopes to ask for first: the challenge's, else the resource's `scopes_supported`.
    public var initialScopes: [String]
}

/// The steps of MCP authorization as plugboard's client: discovery, registration, and the
/// token endpoint's grants. Stateless: whoever holds the credentials decides when to call.
public struct OAuthClient: Sendable {
    let transport: any OAuthTransport

    public init(transport: any OAuthTransport) {
        self.transport = transport
    }

    // MARK: Discovery

    /// Sends an unauthenticated request to the MCP endpoint (a GET of the event stream for the
    /// legacy HTTP+SSE transport) and reads its challenge; nil when it asks for none.
    public func probe(_ server: HTTPURL, legacySSE: Bool = false) async throws(OAuthError) -> (status: Int, challenge: BearerChallenge?) {
        let request =
            legacySSE
            ? OAuthHTTPRequest(method: "GET", url: server.description, headers: [("Accept", "text/event-stream")], headOnly: true)
            : OAuthHTTPRequest(
                method: "POST", url: server.description,
                headers: [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")],
                body: Array(#"{"jsonrpc":"2.0","id":"plugboard-auth-probe","method":"ping"}"#.utf8))
        let response = try await transport.perform(request)
        return (response.status, response.status == 401 ? BearerChallenge.parse(response.headers.values(for: "WWW-Authenticate")) ?? BearerChallenge() : nil)
    }

    /// Protected resource metadata, then the chosen authorization server's metadata, each
    /// validated against what it claims to describe.
    public func discover(_ server: HTTPURL, challenge: BearerChallenge?, preferredIssuer: String? = nil) async throws(OAuthError) -> AuthorizationTarget {
        let resource = ResourceIdentifier.canonical(server)
        let locations = DiscoveryLocations.protectedResource(server: server, challenge: challenge)
        var resourceMetadata: ProtectedResourceMetadata?
        for location in locations {
            let response = try await transport.perform(OAuthHTTPRequest(method: "GET", url: location, headers: [("Accept", "application/json")]))
            guard response.status == 200 else { continue }
            resourceMetadata = try ProtectedResourceMetadata.decode(response.body, for: resource, from: location)
            break
        }
        guard let resourceMetadata else { throw .notFound(what: "protected resource metadata for \(resource)", tried: locations) }
        let issuer = preferredIssuer.flatMap { wanted in resourceMetadata.authorizationServers.first { $0 == wanted } }
            ?? resourceMetadata.authorizationServers[0]
        let metadata = try await authorizationServerMetadata(issuer: issuer)
        let scopes = challenge.map(\.scopes).flatMap { $0.isEmpty ? nil : $0 } ?? resourceMetadata.scopesSupported ?? []
        return AuthorizationTarget(resource: resource, resourceMetadata: resourceMetadata, server: metadata, initialScopes: scopes)
    }

    public func authorizationServerMetadata(issuer: String) async throws(OAuthError) -> AuthorizationServerMetadata {
        try Self.requireSecure(issuer)
        let locations = DiscoveryLocations.authorizationServer(issuer: issuer)
        for location in locations {
            let response = try await transport.perform(OAuthHTTPRequest(method: "GET", url: location, headers: [("Accept", "application/json")]))
            guard response.status == 200 else { continue }
            let metadata = try AuthorizationServerMetadata.decode(response.body, issuer: issuer, from: location)
            for endpoint in [metadata.authorizationEndpoint, metadata.tokenEndpoint, metadata.registrationEndpoint, metadata.revocationEndpoint] {
                if let endpoint { try Self.requireSecure(endpoint) }
            }
            return metadata
        }
        throw .notFound(what: "authorization server metadata for \(issuer)", tried: locations)
    }

    /// Authorization server endpoints must be https; loopback http is allowed for local servers.
    static func requireSecure(_ endpoint: String) throws(OAuthError) {
        guard let url = HTTPURL(endpoint), mayCarryTokens(url) else { throw .insecureEndpoint(url: endpoint) }
    }

    /// https, or http on loopback: where a bearer token or a secret may travel (OAuth 2.1 §1.5).
    public static func mayCarryTokens(_ url: HTTPURL) -> Bool {
        url.scheme == "https" || ["::1", "localhost"].contains(url.host) || url.host.hasPrefix("127.")
    }

    /// Refuses a grant the server's metadata says it does not support (when it says).
    public func requireGrant(_ grant: String, at server: AuthorizationServerMetadata) throws(OAuthError) {
        if let supported = server.grantTypes, !supported.contains(grant) {
            throw .unsupported("\(server.issuer) does not support the \(grant) grant (grant_types_supported: \(supported.joined(separator: ", ")))")
        }
    }

    // MARK: Registration

    /// The client plugboard uses with `server`, in the spec's order: pre-registered, a Client ID
    /// Metadata Document, Dynamic Client Registration; else an error saying what to configure.
    public func register(
        at server: AuthorizationServerMetadata, settings: OAuthSettings, redirectURI: String?, serverName: String
    ) async throws(OAuthError) -> ClientRegistration {
        if let clientID = settings.clientID {
            if let bound = settings.issuer, bound != server.issuer {
                throw .needsClient(
                    "the pre-registered client_id of [servers.\(serverName).oauth] belongs to \(bound), but the server now names \(server.issuer) as its authorization server; register with it and update `client_id` and `issuer`")
            }
            guard let secret = settings.clientSecret else { return ClientRegistration(clientID: clientID, source: .preRegistered) }
            let method = server.tokenEndpointAuthMethods.contains("client_secret_basic") ? "client_secret_basic"
                : server.tokenEndpointAuthMethods.contains("client_secret_post") ? "client_secret_post" : "client_secret_basic"
            return ClientRegistration(clientID: clientID, clientSecret: secret, authMethod: method, source: .preRegistered)
        }
        if let document = settings.clientMetadataURL, server.clientIDMetadataDocumentSupported {
            return ClientRegistration(clientID: document, source: .metadataDocument)
        }
        if let endpoint = server.registrationEndpoint, let redirectURI {
            return try await registerDynamically(at: endpoint, redirectURI: redirectURI, settings: settings)
        }
        var options = ["set `client_id` (and `client_secret`) in [servers.\(serverName).oauth] after registering plugboard with \(server.issuer)"]
        if server.clientIDMetadataDocumentSupported { options.append("set `client_metadata_url` to a client metadata document you host") }
        throw .needsClient("\(server.issuer) offers no way for plugboard to register itself: \(options.joined(separator: ", or "))")
    }

    private func registerDynamically(at endpoint: String, redirectURI: String, settings: OAuthSettings) async throws(OAuthError) -> ClientRegistration {
        var metadata: JSONObject = [
            "client_name": "plugboard",
            "redirect_uris": [.string(redirectURI)],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            // A loopback redirect: a native application (OpenID Connect Dynamic Client Registration).
            "application_type": "native",
        ]
        if !settings.scopes.isEmpty { metadata["scope"] = .string(settings.scopes.joined(separator: " ")) }
        let response = try await transport.perform(
            OAuthHTTPRequest(
                method: "POST", url: endpoint, headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
                body: JSONValue.object(metadata).serialized()))
        guard (200..<300).contains(response.status) else { throw Self.refusal(endpoint, response) }
        guard let object = (try? JSONParser.parse(response.body))?.objectValue, let clientID = object["client_id"]?.stringValue else {
            throw .badDocument(url: endpoint, problem: "the registration response has no client_id")
        }
        let secret = object["client_secret"]?.stringValue.map(SecretText.init)
        let method = object["token_endpoint_auth_method"]?.stringValue ?? (secret == nil ? "none" : "client_secret_basic")
        return ClientRegistration(clientID: clientID, clientSecret: secret, authMethod: method, source: .dynamic)
    }

    // MARK: Grants

    public func exchangeCode(_ code: String, attempt: AuthorizationAttempt, client: ClientRegistration, tokenEndpoint: String) async throws(OAuthError) -> TokenResponse {
        try await tokenRequest(
            tokenEndpoint,
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", attempt.redirectURI), ("code_verifier", attempt.pkce.verifier),
             ("resource", attempt.resource)], client: client)
    }

    public func refresh(_ credentials: StoredCredentials) async throws(OAuthError) -> TokenResponse {
        guard let refreshToken = credentials.refreshToken else {
            throw .refused(endpoint: credentials.tokenEndpoint, status: 0, error: "invalid_grant", description: "no refresh token was issued")
        }
        return try await tokenRequest(
            credentials.tokenEndpoint, [("grant_type", "refresh_token"), ("refresh_token", refreshToken.revealed), ("resource", credentials.resource)],
            client: credentials.client)
    }

    /// The client-credentials grant from what discovery found: the configured client, checked
    /// against the server's metadata, then credentials ready to store.
    public func grantClientCredentials(
        at target: AuthorizationTarget, settings: OAuthSettings, serverName: String, scopes: [String], now: Double
    ) async throws(OAuthError) -> StoredCredentials {
        let registration = try await register(at: target.server, settings: settings, redirectURI: nil, serverName: serverName)
        try requireGrant("client_credentials", at: target.server)
        let tokens = try await clientCredentials(
            client: registration, tokenEndpoint: target.server.tokenEndpoint, resource: target.resource, scopes: scopes)
        return .issued(server: serverName, target: target, client: registration, grant: .clientCredentials, tokens: tokens, requestedScopes: scopes, now: now)
    }

    public func clientCredentials(client: ClientRegistration, tokenEndpoint: String, resource: String, scopes: [String]) async throws(OAuthError) -> TokenResponse {
        var fields = [("grant_type", "client_credentials"), ("resource", resource)]
        if !scopes.isEmpty { fields.append(("scope", scopes.joined(separator: " "))) }
        return try await tokenRequest(tokenEndpoint, fields, client: client)
    }

    /// RFC 7009: the refresh token (which takes its access tokens with it), then the access token.
    public func revoke(_ credentials: StoredCredentials) async throws(OAuthError) {
        guard let endpoint = credentials.revocationEndpoint else { return }
        var tokens = [("access_token", credentials.accessToken.revealed)]
        if let refresh = credentials.refreshToken { tokens.insert(("refresh_token", refresh.revealed), at: 0) }
        for (hint, token) in tokens {
            let (fields, headers) = Self.authenticated([("token", token), ("token_type_hint", hint)], client: credentials.client)
            let response = try await transport.perform(.form(endpoint, fields, headers: headers))
            guard response.status == 200 else { throw Self.refusal(endpoint, response) }
        }
    }

    private func tokenRequest(_ endpoint: String, _ fields: [(String, String)], client: ClientRegistration) async throws(OAuthError) -> TokenResponse {
        try Self.requireSecure(endpoint)
        let (fields, headers) = Self.authenticated(fields, client: client)
        let response = try await transport.perform(.form(endpoint, fields, headers: headers))
        guard response.status == 200 else { throw Self.refusal(endpoint, response) }
        return try TokenResponse.decode(response.body, endpoint: endpoint)
    }

    /// Client authentication at the token endpoint (OAuth 2.1 §2.4): HTTP Basic with the
    /// form-encoded id and secret, the secret in the body, or just the id for a public client.
    static func authenticated(_ fields: [(String, String)], client: ClientRegistration) -> ([(String, String)], [(String, String)]) {
        guard let secret = client.clientSecret, client.authMethod != "none" else { return (fields + [("client_id", client.clientID)], []) }
        if client.authMethod == "client_secret_post" {
            return (fields + [("client_id", client.clientID), ("client_secret", secret.revealed)], [])
        }
        let credentials = FormEncoding.percentEncoded(client.clientID) + ":" + FormEncoding.percentEncoded(secret.revealed)
        return (fields, [("Authorization", "Basic " + Base64.encoded(Array(credentials.utf8)))])
    }

    /// An error answer, by its OAuth `error` and `error_description` only (never the body as a whole).
    static func refusal(_ endpoint: String, _ response: OAuthHTTPResponse) -> OAuthError {
        let object = (try? JSONParser.parse(response.body))?.objectValue
        let description = object?["error_description"]?.stringValue.map { String($0.prefix(300)) }
        return .refused(endpoint: endpoint, status: response.status, error: object?["error"]?.stringValue, description: description)
    }
}
