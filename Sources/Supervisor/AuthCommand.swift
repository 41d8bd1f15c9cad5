import Auth
import Config
import Glibc
import HTTP
import IO
import Locking
import Logging

/// `plugboard auth login|status|logout`: OAuth for the configured remote servers, run once by a
/// person (or an operator on a headless machine) so that the daemon can serve unattended.
public enum AuthCommand {
    public enum Action: Sendable {
        case login(server: String, Login.Options)
        case status
        case logout(server: String)
    }

    public static func run(_ action: Action, config: PlugboardConfig, log: Logger) -> Int32 {
        switch action {
        case .status: return status(config)
        case .login(let server, let given):
            guard let (remote, url) = remoteServer(server, in: config) else { return 2 }
            var options = given
            if case .legacySSE = remote.transport { options.legacySSE = true }
            let settled = options
            return onLoop { loop in
                let login = Login(
                    server: server, url: url, settings: remote.remote.oauth, transport: LoopTransport(loop: loop, options: remote.remote, log: log),
                    loop: loop, log: log, options: settled, tell: { printError($0) }, now: WallClock.now)
                do {
                    let credentials = try await login.run()
                    printError("authorized: server '\(server)' by \(credentials.issuer) as client \(credentials.client.clientID)"
                        + " (\(credentials.client.source.rawValue)); scopes: \(credentials.scopes.joined(separator: " ")); \(expiry(credentials))")
                    printError("tokens saved in \(CredentialStore(directory: remote.remote.oauth.tokenDirectory).path(server: server, issuer: credentials.issuer))")
                    return 0
                } catch {
                    printError("plugboard: login for server '\(server)' failed: \(error)")
                    return 1
                }
            }
        case .logout(let server):
            guard let (remote, url) = remoteServer(server, in: config) else { return 2 }
            let settings = remote.remote.oauth
            let store = CredentialStore(directory: settings.tokenDirectory)
            let stored = store.loadAll(server: server, resource: ResourceIdentifier.canonical(url))
            guard !stored.isEmpty else {
                printError("server '\(server)' has no stored tokens in \(store.directory)")
                return 0
            }
            return onLoop { loop in
                let client = OAuthClient(transport: LoopTransport(loop: loop, options: remote.remote, log: log))
                var status: Int32 = 0
                for var credentials in stored {
                    // A pre-registered client authenticates with the secret from the configuration.
                    if credentials.client.source == .preRegistered, credentials.client.clientID == settings.clientID {
                        credentials.client.clientSecret = settings.clientSecret
                    }
                    if credentials.revocationEndpoint == nil {
                        printError("\(credentials.issuer) offers no revocation endpoint: the tokens are deleted here but stay valid until they expire")
                    } else {
                        do {
                            try await client.revoke(credentials)
                            printError("revoked the tokens at \(credentials.issuer)")
                        } catch {
                            printError("could not revoke the tokens at \(credentials.issuer) (\(error)); deleting them anyway")
                            status = 1
                        }
                    }
                    do {
                        try store.delete(server: server, issuer: credentials.issuer)
                        printError("deleted \(store.path(server: server, issuer: credentials.issuer))")
                    } catch {
                        printError("plugboard: \(error)")
                        status = 1
                    }
                }
                return status
            }
        }
    }

    /// One line per remote server: whether it is authorized, by whom, for what, until when.
    static func status(_ config: PlugboardConfig) -> Int32 {
        let remotes = config.servers.compactMap { server -> (UpstreamServer, HTTPURL)? in
            switch server.transport {
            case .streamableHTTP(let text), .legacySSE(let text): HTTPURL(text).map { (server, $0) }
            case .stdio: nil
            }
        }
        guard !remotes.isEmpty else {
            printOut("no remote (url) servers are configured\n")
            return 0
        }
        for (server, url) in remotes {
            let settings = server.remote.oauth
            guard settings.enabled else {
                printOut("\(server.name): uses its configured Authorization header\n")
                continue
            }
            let store = CredentialStore(directory: settings.tokenDirectory)
            for (path, problem) in store.unreadable(server: server.name) { printOut("\(server.name): cannot read \(path): \(problem)\n") }
            guard let c = store.load(server: server.name, resource: ResourceIdentifier.canonical(url)) else {
                let how = settings.grant == .clientCredentials ? "plugboard obtains tokens itself (client credentials)" : "run `\(settings.loginCommand(server: server.name))` if it requires OAuth"
                printOut("\(server.name): not authorized; \(how)\n")
                continue
            }
            var line = "\(server.name): authorized by \(c.issuer) as client \(c.client.clientID) (\(c.client.source.rawValue), \(c.grant.rawValue))"
            line += "; scopes: \(c.scopes.isEmpty ? "(none stated)" : c.scopes.joined(separator: " "))"
            if !c.wantedScopes.isEmpty { line += "; the server asked for more: \(c.wantedScopes.joined(separator: " ")) (log in again to grant)" }
            line += "; \(expiry(c)); \(c.refreshToken == nil ? "no refresh token" : "refreshable")"
            printOut(line + "\n")
            printOut("    \(store.path(server: server.name, issuer: c.issuer))\n")
        }
        return 0
    }

    private static func expiry(_ c: StoredCredentials) -> String {
        guard let expiresAt = c.expiresAt else { return "no stated expiry" }
        let left = Int(expiresAt - WallClock.now())
        return left > 0 ? "access token expires in \(left) s" : "access token expired \(-left) s ago"
    }

    private static func remoteServer(_ name: String, in config: PlugboardConfig) -> (UpstreamServer, HTTPURL)? {
        guard let server = config.servers.first(where: { $0.name == name }) else {
            printError("plugboard: no server '\(name)' in \(config.directory) (configured: \(config.servers.map(\.name).joined(separator: ", ")))")
            return nil
        }
        switch server.transport {
        case .streamableHTTP(let text), .legacySSE(let text):
            guard let url = HTTPURL(text) else { return nil }
            guard server.remote.oauth.enabled else {
                printError("plugboard: server '\(name)' is authorized by its configured Authorization header; OAuth does not apply")
                return nil
            }
            return (server, url)
        case .stdio:
            printError("plugboard: server '\(name)' is a local process (command); OAuth applies to url servers only")
            return nil
        }
    }

    /// Runs `body` as a task while this thread runs an event loop for its I/O.
    private static func onLoop(_ body: @escaping @Sendable (EventLoop) async -> Int32) -> Int32 {
        let loop = EventLoop()
        let result = Locked<Int32>(1)
        Task {
            let status = await body(loop)
            result.withLock { $0 = status }
            loop.stop()
        }
        loop.run()
        return result.withLock { $0 }
    }

    private static func printOut(_ text: String) { StandardStreams.output(text) }
    private static func printError(_ text: String) { StandardStreams.error(text + "\n") }

}
