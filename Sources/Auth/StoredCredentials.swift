import Config
import JSON

/// How plugboard identifies itself to an authorization server.
public struct ClientRegistration: Sendable, Equatable {
    public enum Source: String, Sendable {
        /// `client_id` (and `client_secret`) from the configuration.
        case preRegistered = "pre-registered"
        /// `client_metadata_url`: the client id is the URL of a document the user hosts.
        case metadataDocument = "metadata-document"
        /// Registered by plugboard at the server's `registration_endpoint` (RFC 7591).
        case dynamic
    }

    public var clientID: String
    public var clientSecret: SecretText?
    /// `none`, `client_secret_basic` or `client_secret_post`.
    public var authMethod: String
    public var source: Source

    public init(clientID: String, clientSecret: SecretText? = nil, authMethod: String = "none", source: Source) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.authMethod = authMethod
        self.source = source
    }
}

/// What a token file holds: one server's tokens from one authorization server, and what is
/// needed to refresh them without a person.
public struct StoredCredentials: Sendable, Equatable {
    public var server: String
    /// The canonical URI the tokens were issued for (RFC 8707); they are used for nothing else.
    public var resource: String
    public var issuer: String
    public var tokenEndpoint: String
    public var revocationEndpoint: String?
    public var client: ClientRegistration
    public var grant: OAuthSettings.Grant
    public var accessToken: SecretText
    public var tokenType: String
    public var refreshToken: SecretText?
    /// Seconds since the epoch; nil when the server gave no lifetime.
    public var expiresAt: Double?
    /// The scopes granted (the token response's `scope`, else those requested).
    public var scopes: [String]
    /// Scopes a server asked for later (`insufficient_scope`), for the next login to request.
    public var wantedScopes: [String]
    public var obtainedAt: Double

    public init(
        server: String, resource: String, issuer: String, tokenEndpoint: String, revocationEndpoint: String? = nil, client: ClientRegistration,
        grant: OAuthSettings.Grant = .authorizationCode, accessToken: SecretText, tokenType: String = "Bearer", refreshToken: SecretText? = nil,
        expiresAt: Double? = nil, scopes: [String] = [], wantedScopes: [String] = [], obtainedAt: Double
    ) {
        self.server = server
        self.resource = resource
        self.issuer = issuer
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.client = client
        self.grant = grant
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.wantedScopes = wantedScopes
        self.obtainedAt = obtainedAt
    }

    /// Credentials just issued by `target`'s authorization server to `client`.
    public static func issued(
        server: String, target: AuthorizationTarget, client: ClientRegistration, grant: OAuthSettings.Grant, tokens: TokenResponse,
        requestedScopes: [String], now: Double
    ) -> StoredCredentials {
        StoredCredentials(
            server: server, resource: target.resource, issuer: target.server.issuer, tokenEndpoint: target.server.tokenEndpoint,
            revocationEndpoint: target.server.revocationEndpoint, client: client, grant: grant, accessToken: tokens.accessToken, obtainedAt: now
        ).renewed(by: tokens, requestedScopes: requestedScopes, now: now)
    }

    /// The value of the `Authorization` header (RFC 6750 §2.1).
    public var authorizationHeader: String { "Bearer \(accessToken.revealed)" }

    /// The same grant with a new token response folded in: a server that rotates refresh
    /// tokens sends a new one, one that does not leaves the old one valid.
    public func renewed(by response: TokenResponse, requestedScopes: [String], now: Double) -> StoredCredentials {
        var copy = self
        copy.accessToken = response.accessToken
        copy.tokenType = response.tokenType
        if let refresh = response.refreshToken { copy.refreshToken = refresh }
        copy.expiresAt = response.expiresIn.map { now + $0 }
        copy.scopes = response.scopes ?? (requestedScopes.isEmpty ? scopes : requestedScopes)
        copy.wantedScopes = copy.wantedScopes.filter { !copy.scopes.contains($0) }
        copy.obtainedAt = now
        return copy
    }

    var json: JSONValue {
        var object: JSONObject = [
            "version": 1, "server": .string(server), "resource": .string(resource), "issuer": .string(issuer),
            "token_endpoint": .string(tokenEndpoint), "grant": .string(grant.rawValue),
            "client_id": .string(client.clientID), "client_auth_method": .string(client.authMethod), "client_source": .string(client.source.rawValue),
            "access_token": .string(accessToken.revealed), "token_type": .string(tokenType),
            "scopes": .array(scopes.map(JSONValue.string)), "wanted_scopes": .array(wantedScopes.map(JSONValue.string)),
            "obtained_at": .number(JSONNumber(Int64(obtainedAt.rounded()))),
        ]
        if let revocationEndpoint { object["revocation_endpoint"] = .string(revocationEndpoint) }
        // Only a secret plugboard registered for itself is kept here; a pre-registered one stays in the configuration.
        if let secret = client.clientSecret, client.source == .dynamic { object["client_secret"] = .string(secret.revealed) }
        if let refreshToken { object["refresh_token"] = .string(refreshToken.revealed) }
        if let expiresAt { object["expires_at"] = .number(JSONNumber(Int64(expiresAt.rounded()))) }
        return .object(object)
    }

    init?(json: JSONValue) {
        guard let object = json.objectValue, let server = object["server"]?.stringValue, let resource = object["resource"]?.stringValue,
            let issuer = object["issuer"]?.stringValue, let tokenEndpoint = object["token_endpoint"]?.stringValue,
            let clientID = object["client_id"]?.stringValue, let accessToken = object["access_token"]?.stringValue
        else { return nil }
        let client = ClientRegistration(
            clientID: clientID, clientSecret: object["client_secret"]?.stringValue.map(SecretText.init),
            authMethod: object["client_auth_method"]?.stringValue ?? "none",
            source: object["client_source"]?.stringValue.flatMap(ClientRegistration.Source.init(rawValue:)) ?? .dynamic)
        self.init(
            server: server, resource: resource, issuer: issuer, tokenEndpoint: tokenEndpoint,
            revocationEndpoint: object["revocation_endpoint"]?.stringValue, client: client,
            grant: object["grant"]?.stringValue.flatMap(OAuthSettings.Grant.init(rawValue:)) ?? .authorizationCode,
            accessToken: SecretText(accessToken), tokenType: object["token_type"]?.stringValue ?? "Bearer",
            refreshToken: object["refresh_token"]?.stringValue.map(SecretText.init), expiresAt: object["expires_at"]?.doubleValue,
            scopes: object["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            wantedScopes: object["wanted_scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            obtainedAt: object["obtained_at"]?.doubleValue ?? 0)
    }
}

/// A successful token endpoint answer (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: SecretText
    public var tokenType: String
    public var refreshToken: SecretText?
    public var expiresIn: Double?
    public var scopes: [String]?

    public init(accessToken: SecretText, tokenType: String = "Bearer", refreshToken: SecretText? = nil, expiresIn: Double? = nil, scopes: [String]? = nil) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.scopes = scopes
    }

    static func decode(_ body: [UInt8], endpoint: String) throws(OAuthError) -> TokenResponse {
        guard let object = (try? JSONParser.parse(body))?.objectValue else { throw .badDocument(url: endpoint, problem: "the token response is not a JSON object") }
        guard let token = object["access_token"]?.stringValue, !token.isEmpty else {
            throw .badDocument(url: endpoint, problem: "the token response has no access_token")
        }
        let type = object["token_type"]?.stringValue ?? "Bearer"
        guard type.lowercased() == "bearer" else { throw .unsupported("\(endpoint) issued a \(type) token; plugboard sends Bearer tokens only") }
        let expiresIn = object["expires_in"]?.doubleValue ?? object["expires_in"]?.stringValue.flatMap(Double.init)
        return TokenResponse(
            accessToken: SecretText(token), tokenType: "Bearer", refreshToken: object["refresh_token"]?.stringValue.map(SecretText.init),
            expiresIn: expiresIn, scopes: object["scope"]?.stringValue.map { $0.split(separator: " ").map(String.init) })
    }
}
