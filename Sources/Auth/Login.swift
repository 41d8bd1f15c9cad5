import Config
import Cryptography
import HTTP
import IO
import Logging

/// `plugboard auth login`: the part of MCP authorization a person takes part in. Discovers the
/// server's authorization server, registers (or uses the configured client), sends the person
/// to the authorization URL, takes the redirect on loopback, checks it, exchanges the code, and
/// writes the token file the running instance picks up.
public struct Login: Sendable {
    public struct Options: Sendable {
        public var openBrowser = true
        /// Overrides `redirect_port`.
        public var redirectPort: Int?
        public var extraScopes: [String] = []
        public var timeoutSeconds = 300.0
        /// The server speaks the legacy HTTP+SSE transport (probed with a GET).
        public var legacySSE = false
        public init() {}
    }

    let server: String
    let url: HTTPURL
    let settings: OAuthSettings
    let client: OAuthClient
    let store: CredentialStore
    let loop: EventLoop
    let log: Logger
    let options: Options
    /// Shows the person a line (the URL to open, what is awaited).
    let tell: @Sendable (String) -> Void
    let now: @Sendable () -> Double

    public init(
        server: String, url: HTTPURL, settings: OAuthSettings, transport: any OAuthTransport, loop: EventLoop, log: Logger, options: Options,
        tell: @escaping @Sendable (String) -> Void, now: @escaping @Sendable () -> Double
    ) {
        self.server = server
        self.url = url
        self.settings = settings
        self.client = OAuthClient(transport: transport)
        self.store = CredentialStore(directory: settings.tokenDirectory)
        self.loop = loop
        self.log = log
        self.options = options
        self.tell = tell
        self.now = now
    }

    public func run() async throws(OAuthError) -> StoredCredentials {
        guard OAuthClient.mayCarryTokens(url) else {
            throw .unsupported("\(url) is plain http:// beyond loopback: plugboard sends bearer tokens only over https")
        }
        let (status, challenge) = try await client.probe(url, legacySSE: options.legacySSE)
        guard status == 401 else {
            throw .unsupported("\(url) answered HTTP \(status) without asking for authorization (401), so server '\(server)' needs no login")
        }
        let target = try await client.discover(url, challenge: challenge, preferredIssuer: settings.issuer)
        let previous = store.load(server: server, resource: target.resource)
        var scopes = CredentialMachine.union(
            target.initialScopes, settings.scopes, previous?.scopes ?? [], previous?.wantedScopes ?? [], options.extraScopes)
        // Pre-registered credentials belong to one authorization server (client-registration.mdx,
        // Authorization Server Binding): without `issuer`, the one they were first used with.
        if settings.clientID != nil, settings.issuer == nil, let previous, previous.client.source == .preRegistered,
            previous.issuer != target.server.issuer
        {
            throw .needsClient(
                "server '\(server)' now names \(target.server.issuer) as its authorization server, but the pre-registered client_id was used with \(previous.issuer); register with the new one, then set `client_id` and `issuer` in [servers.\(server).oauth]")
        }
        if settings.grant == .clientCredentials {
            return try await clientCredentials(target, scopes: scopes)
        }
        guard target.server.codeChallengeMethods.contains(PKCE.method) else {
            throw .unsupported("\(target.server.issuer) does not support PKCE with S256 (no code_challenge_methods_supported), which MCP requires; refusing to continue")
        }
        guard let endpoint = target.server.authorizationEndpoint else {
            throw .unsupported("\(target.server.issuer) has no authorization_endpoint; use `grant = \"client_credentials\"` if it is meant for machines")
        }
        // Refresh tokens are not a resource's requirement, but ask for one where the server offers it (2026-07-28 §Refresh Tokens).
        if target.server.scopesSupported?.contains("offline_access") == true, !scopes.contains("offline_access") { scopes.append("offline_access") }

        let redirect = try await LoopbackRedirect.start(loop: loop, port: options.redirectPort ?? settings.redirectPort, log: log)
        defer { redirect.close() }
        let registration = try await client.register(at: target.server, settings: settings, redirectURI: redirect.redirectURI, serverName: server)
        let attempt = AuthorizationAttempt(
            metadata: target.server, redirectURI: redirect.redirectURI, clientID: registration.clientID, resource: target.resource, scopes: scopes)
        let authorizationURL = attempt.url(endpoint: endpoint)
        tell("To authorize plugboard for server '\(server)' (\(target.resource)), open this URL in a browser:")
        tell("")
        tell("  \(authorizationURL)")
        tell("")
        tell("Waiting for the redirect on \(redirect.redirectURI) (up to \(Int(options.timeoutSeconds)) s).")
        tell("On another machine, forward the port first: ssh -L \(redirect.port):127.0.0.1:\(redirect.port) THIS_HOST")
        if options.openBrowser { Browser.open(authorizationURL, log: log) }

        let code = try await redirect.callback(timeoutSeconds: options.timeoutSeconds) { query in
            attempt.matchesState(query) ? Result { () throws(OAuthError) in try attempt.code(fromRedirectQuery: query) } : nil
        }.get()
        let tokens = try await client.exchangeCode(code, attempt: attempt, client: registration, tokenEndpoint: target.server.tokenEndpoint)
        let credentials = StoredCredentials.issued(
            server: server, target: target, client: registration, grant: .authorizationCode, tokens: tokens, requestedScopes: scopes, now: now())
        do { try store.save(credentials) } catch { throw .unsupported("authorized, but the token file could not be written: \(error)") }
        return credentials
    }

    private func clientCredentials(_ target: AuthorizationTarget, scopes: [String]) async throws(OAuthError) -> StoredCredentials {
        let credentials = try await client.grantClientCredentials(at: target, settings: settings, serverName: server, scopes: scopes, now: now())
        do { try store.save(credentials) } catch { throw .unsupported("authorized, but the token file could not be written: \(error)") }
        return credentials
    }
}

extension AuthorizationAttempt {
    /// Whether a redirect carries this attempt's `state`; one that does not is someone else's
    /// (stale, or forged) and is ignored rather than allowed to end the login.
    public func matchesState(_ query: String) -> Bool {
        guard let returned = FormEncoding.decode(query).first(where: { $0.0 == "state" })?.1 else { return false }
        return Digest.constantTimeEquals(Array(returned.utf8), Array(state.utf8))
    }
}
