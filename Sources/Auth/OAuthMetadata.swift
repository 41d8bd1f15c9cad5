import HTTP
import JSON

/// OAuth 2.0 Protected Resource Metadata (RFC 9728): which authorization servers issue tokens
/// for an MCP server.
public struct ProtectedResourceMetadata: Sendable, Equatable {
    public var resource: String
    public var authorizationServers: [String]
    public var scopesSupported: [String]?

    /// Decodes and checks the document fetched for `serverURL` (RFC 9728 §3.3: its `resource`
    /// must be the server's own identifier).
    public static func decode(_ body: [UInt8], for resource: String, from url: String) throws(OAuthError) -> ProtectedResourceMetadata {
        guard let document = try? JSONParser.parse(body), let object = document.objectValue else {
            throw .badDocument(url: url, problem: "not a JSON object")
        }
        guard let stated = object["resource"]?.stringValue else { throw .badDocument(url: url, problem: "it has no `resource`") }
        guard ResourceIdentifier.covers(stated, resource) else {
            throw .badDocument(url: url, problem: "it describes \(stated), not \(resource) (RFC 9728 §3.3)")
        }
        let servers = object["authorization_servers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !servers.isEmpty else { throw .badDocument(url: url, problem: "it lists no `authorization_servers`") }
        return ProtectedResourceMetadata(
            resource: stated, authorizationServers: servers, scopesSupported: object["scopes_supported"]?.arrayValue?.compactMap(\.stringValue))
    }
}

/// Authorization server metadata (RFC 8414, or OpenID Connect Discovery).
public struct AuthorizationServerMetadata: Sendable, Equatable {
    public var issuer: String
    public var authorizationEndpoint: String?
    public var tokenEndpoint: String
    public var registrationEndpoint: String?
    public var revocationEndpoint: String?
    public var codeChallengeMethods: [String]
    public var tokenEndpointAuthMethods: [String]
    public var grantTypes: [String]?
    public var scopesSupported: [String]?
    public var clientIDMetadataDocumentSupported: Bool
    /// RFC 9207: the server puts `iss` in every authorization response.
    public var issParameterSupported: Bool

    public init(
        issuer: String, authorizationEndpoint: String? = nil, tokenEndpoint: String, registrationEndpoint: String? = nil,
        revocationEndpoint: String? = nil, codeChallengeMethods: [String] = ["S256"], tokenEndpointAuthMethods: [String] = ["client_secret_basic"],
        grantTypes: [String]? = nil, scopesSupported: [String]? = nil, clientIDMetadataDocumentSupported: Bool = false,
        issParameterSupported: Bool = false
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.registrationEndpoint = registrationEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.codeChallengeMethods = codeChallengeMethods
        self.tokenEndpointAuthMethods = tokenEndpointAuthMethods
        self.grantTypes = grantTypes
        self.scopesSupported = scopesSupported
        self.clientIDMetadataDocumentSupported = clientIDMetadataDocumentSupported
        self.issParameterSupported = issParameterSupported
    }

    /// Decodes and checks the document fetched for `issuer` (RFC 8414 §3.3: `issuer` identical).
    public static func decode(_ body: [UInt8], issuer: String, from url: String) throws(OAuthError) -> AuthorizationServerMetadata {
        guard let document = try? JSONParser.parse(body), let object = document.objectValue else {
            throw .badDocument(url: url, problem: "not a JSON object")
        }
        guard let stated = object["issuer"]?.stringValue, stated == issuer else {
            throw .badDocument(url: url, problem: "its issuer is \(object["issuer"]?.stringValue ?? "missing"), not \(issuer) (RFC 8414 §3.3)")
        }
        guard let token = object["token_endpoint"]?.stringValue else { throw .badDocument(url: url, problem: "it has no `token_endpoint`") }
        func strings(_ key: String) -> [String]? { object[key]?.arrayValue?.compactMap(\.stringValue) }
        return AuthorizationServerMetadata(
            issuer: stated, authorizationEndpoint: object["authorization_endpoint"]?.stringValue, tokenEndpoint: token,
            registrationEndpoint: object["registration_endpoint"]?.stringValue, revocationEndpoint: object["revocation_endpoint"]?.stringValue,
            codeChallengeMethods: strings("code_challenge_methods_supported") ?? [],
            // RFC 8414 §2: absent means client_secret_basic.
            tokenEndpointAuthMethods: strings("token_endpoint_auth_methods_supported") ?? ["client_secret_basic"],
            grantTypes: strings("grant_types_supported"), scopesSupported: strings("scopes_supported"),
            clientIDMetadataDocumentSupported: object["client_id_metadata_document_supported"]?.boolValue ?? false,
            issParameterSupported: object["authorization_response_iss_parameter_supported"]?.boolValue ?? false)
    }
}

/// Where the metadata documents are looked for, in the order the spec gives.
public enum DiscoveryLocations {
    /// The challenge's `resource_metadata` when it names one; else the well-known URI with the
    /// server's path inserted, then at the root (2026-07-28 authorization-server-discovery).
    public static func protectedResource(server: HTTPURL, challenge: BearerChallenge?) -> [String] {
        if let named = challenge?.resourceMetadata, let url = server.resolving(named) { return [url.description] }
        let origin = "\(server.scheme)://\(server.hostHeader)"
        let path = server.path == "/" ? "" : server.path
        let root = origin + "/.well-known/oauth-protected-resource"
        return path.isEmpty ? [root] : [root + path, root]
    }

    /// RFC 8414 path insertion, OpenID Connect with path insertion, then with the path appended;
    /// an issuer without a path gets the two root documents.
    public static func authorizationServer(issuer: String) -> [String] {
        guard let url = HTTPURL(issuer) else { return [] }
        let origin = "\(url.scheme)://\(url.hostHeader)"
        var path = url.path
        while path.hasSuffix("/") { path.removeLast() }
        if path.isEmpty {
            return [origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"]
        }
        return [
            origin + "/.well-known/oauth-authorization-server" + path,
            origin + "/.well-known/openid-configuration" + path,
            origin + path + "/.well-known/openid-configuration",
        ]
    }
}

/// An MCP server's canonical URI, the `resource` of every authorization and token request (RFC 8707).
public enum ResourceIdentifier {
    /// Lowercase scheme and host, default port dropped, no fragment, no trailing slash on a bare origin.
    public static func canonical(_ url: HTTPURL) -> String {
        let text = url.description
        return url.pathAndQuery == "/" ? String(text.dropLast()) : text
    }

    /// Whether two identifiers name the same resource, tolerating case in scheme and host and a
    /// bare origin's trailing slash.
    static func same(_ a: String, _ b: String) -> Bool {
        guard let x = HTTPURL(a), let y = HTTPURL(b) else { return a == b }
        return canonical(x) == canonical(y)
    }

    /// Whether metadata for `stated` speaks for `resource`: the same one, or an origin or path
    /// above it (the document at the root well-known URI describes the origin).
    static func covers(_ stated: String, _ resource: String) -> Bool {
        if same(stated, resource) { return true }
        guard let outer = HTTPURL(stated), let inner = HTTPURL(resource), outer.query == nil,
            outer.scheme == inner.scheme, outer.host == inner.host, outer.port == inner.port
        else { return false }
        let prefix = outer.path.hasSuffix("/") ? outer.path : outer.path + "/"
        return prefix == "/" || inner.path.hasPrefix(prefix)
    }
}
