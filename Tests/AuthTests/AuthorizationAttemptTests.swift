import Auth
import Config
import Glibc
import HTTP
import Testing

@Suite("the authorization request, its redirect's checks, and the token files")
struct AuthorizationAttemptTests {
    func attempt(issParameterSupported: Bool = true) -> AuthorizationAttempt {
        AuthorizationAttempt(
            metadata: AuthorizationServerMetadata(issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token", issParameterSupported: issParameterSupported),
            redirectURI: "http://127.0.0.1:8765/callback", clientID: "pb", resource: "https://mcp.example.com/mcp", scopes: ["a", "b"],
            pkce: PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), state: "st4te")
    }

    @Test("PKCE S256 as RFC 7636's appendix B computes it")
    func pkce() {
        #expect(PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(PKCE.random().verifier.count == 43)
        #expect(PKCE.random() != PKCE.random())
    }

    @Test("the URL carries the code request, PKCE, state, resource and scopes")
    func url() {
        let url = attempt().url(endpoint: "https://auth.example.com/authorize")
        let fields = Dictionary(uniqueKeysWithValues: FormEncoding.decode(url.split(separator: "?")[1]))
        #expect(fields["response_type"] == "code" && fields["client_id"] == "pb" && fields["redirect_uri"] == "http://127.0.0.1:8765/callback")
        #expect(fields["code_challenge"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" && fields["code_challenge_method"] == "S256")
        #expect(fields["state"] == "st4te" && fields["resource"] == "https://mcp.example.com/mcp" && fields["scope"] == "a b")
    }

    @Test("a good redirect yields its code")
    func goodRedirect() throws {
        #expect(try attempt().code(fromRedirectQuery: "code=c0de&state=st4te&iss=https%3A%2F%2Fauth.example.com") == "c0de")
        #expect(try attempt(issParameterSupported: false).code(fromRedirectQuery: "code=c0de&state=st4te") == "c0de")
    }

    @Test("iss is checked first, byte for byte; a wrong one hides the error the response claims")
    func issuerChecks() {
        for query in [
            "code=c&state=st4te&iss=https%3A%2F%2Fevil.example.com",
            "code=c&state=st4te&iss=https%3A%2F%2FAUTH.example.com",
            "code=c&state=st4te&iss=https%3A%2F%2Fauth.example.com%2F",
            "error=access_denied&error_description=click%20here&state=st4te&iss=https%3A%2F%2Fevil.example.com",
        ] {
            do {
                _ = try attempt().code(fromRedirectQuery: query)
                Issue.record("accepted \(query)")
            } catch {
                #expect("\(error)".contains("RFC 9207") && !"\(error)".contains("click here"))
            }
        }
        #expect(throws: OAuthError.self) { try attempt().code(fromRedirectQuery: "code=c&state=st4te") }
    }

    @Test("state must match; an error is reported after both checks pass")
    func stateAndErrors() {
        #expect(throws: OAuthError.authorizationResponse("its `state` does not match the request's (a forged or stale redirect)")) {
            try attempt(issParameterSupported: false).code(fromRedirectQuery: "code=c&state=other")
        }
        #expect(!attempt().matchesState("code=c&state=other") && attempt().matchesState("code=c&state=st4te"))
        #expect(throws: OAuthError.authorizationResponse("the authorization server answered access_denied: no")) {
            try attempt(issParameterSupported: false).code(fromRedirectQuery: "error=access_denied&error_description=no&state=st4te")
        }
    }

    @Test("token files: 0600 in a 0700 directory, found by server and resource, a pre-registered secret left out")
    func store() throws {
        var template = Array("/tmp/pb-auth-XXXXXX".utf8CString)
        let base = String(cString: mkdtemp(&template)!)
        defer { _ = system("rm -rf '\(base)'") }
        let store = CredentialStore(directory: base + "/state/tokens")
        let credentials = StoredCredentials(
            server: "notes", resource: "https://mcp.example.com/mcp", issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token",
            client: ClientRegistration(clientID: "pb", clientSecret: SecretText("configured"), authMethod: "client_secret_basic", source: .preRegistered),
            accessToken: SecretText("a"), refreshToken: SecretText("r"), expiresAt: 5000, scopes: ["x"], obtainedAt: 1000)
        try store.save(credentials)
        let path = store.path(server: "notes", issuer: "https://auth.example.com")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(store.directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
        var expected = credentials
        expected.client.clientSecret = nil
        #expect(store.load(server: "notes", resource: "https://MCP.example.com/mcp") == expected)
        #expect(store.load(server: "notes", resource: "https://mcp.example.com/other") == nil)
        #expect(store.load(server: "note", resource: "https://mcp.example.com/mcp") == nil)
        #expect(store.unreadable(server: "notes").isEmpty)
        let broken = store.path(server: "notes", issuer: "https://other.example.com")
        #expect(FileManagerless.write("{not json", to: broken))
        #expect(store.unreadable(server: "notes").map(\.path) == [broken])
        #expect(store.load(server: "notes", resource: "https://mcp.example.com/mcp") == expected)
        unlink(broken)
        try store.delete(server: "notes", issuer: "https://auth.example.com")
        #expect(store.loadAll(server: "notes", resource: "https://mcp.example.com/mcp").isEmpty)
    }

    @Test("well-known locations for issuers with and without a path")
    func locations() {
        #expect(DiscoveryLocations.authorizationServer(issuer: "https://auth.example.com") == [
            "https://auth.example.com/.well-known/oauth-authorization-server", "https://auth.example.com/.well-known/openid-configuration",
        ])
        #expect(DiscoveryLocations.authorizationServer(issuer: "https://auth.example.com/tenant1/").count == 3)
        #expect(ResourceIdentifier.canonical(HTTPURL("HTTPS://MCP.Example.com:443/")!) == "https://mcp.example.com")
    }
}

enum FileManagerless {
    static func write(_ text: String, to path: String) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return Array(text.utf8).withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) } == text.utf8.count
    }
}
