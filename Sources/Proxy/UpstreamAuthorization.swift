import Auth
import Config
import Glibc
import HTTP
import IO
import JSON
import Logging

/// The `UpstreamAuthorization`s of the core, shared by the connections of successive
/// generations that reach the same server the same way: one grant has one refresher.
final class AuthorizationRegistry {
    private struct Entry {
        let name: String
        let transport: UpstreamTransport
        let remote: RemoteOptions
        let authorization: UpstreamAuthorization
        var users: Int
    }

    private var entries: [Entry] = []

    init() {}

    func acquire(for config: UpstreamServer, loop: EventLoop, log: Logger) -> UpstreamAuthorization? {
        if let index = entries.firstIndex(where: { $0.name == config.name && $0.transport == config.transport && $0.remote == config.remote }) {
            entries[index].users += 1
            return entries[index].authorization
        }
        guard let authorization = UpstreamAuthorization.make(for: config, loop: loop, log: log) else { return nil }
        entries.append(Entry(name: config.name, transport: config.transport, remote: config.remote, authorization: authorization, users: 1))
        return authorization
    }

    /// The last user gone, the authorization stops.
    func release(_ authorization: UpstreamAuthorization) {
        guard let index = entries.firstIndex(where: { $0.authorization === authorization }) else { return }
        entries[index].users -= 1
        guard entries[index].users == 0 else { return }
        entries.remove(at: index)
        authorization.stop()
    }
}

/// OAuth for one remote server, on the event loop: drives its `CredentialMachine`, renews
/// tokens off the loop, and watches its token file so a `plugboard auth login` takes effect
/// in the running instance without a restart. Outlives the links of its connection.
final class UpstreamAuthorization {
    typealias Completion = (Result<String?, AuthorizationDenied>) -> Void

    let server: String
    private let url: HTTPURL
    private let settings: OAuthSettings
    private let store: CredentialStore
    private let client: OAuthClient
    private let loop: EventLoop
    private let log: Logger
    private let now: () -> Double
    private var machine: CredentialMachine
    private var waiters: [Completion] = []
    private var stamp: [String: String] = [:]
    private var watchTimer: EventLoop.TimerID?
    private var renewTimer: EventLoop.TimerID?
    /// The last challenge seen, for discovery when plugboard must obtain a token itself.
    private var lastChallenge: BearerChallenge?
    private(set) var counters = Counters()
    private var stopped = false
    /// Told when new credentials were loaded (a login, or a renewal that followed a failure).
    private var observers: [ObjectIdentifier: () -> Void] = [:]

    struct Counters {
        var renewals = 0
        var renewalFailures = 0
        var rejections = 0
    }

    /// Nil when OAuth does not apply: a stdio server, one whose `Authorization` header is
    /// configured, or plain http beyond loopback (a bearer token is never sent in the clear).
    static func make(for config: UpstreamServer, loop: EventLoop, log: Logger, now: @escaping () -> Double = WallClock.now) -> UpstreamAuthorization? {
        let text: String
        switch config.transport {
        case .streamableHTTP(let url), .legacySSE(let url): text = url
        case .stdio: return nil
        }
        guard config.remote.oauth.enabled, let url = HTTPURL(text) else { return nil }
        guard OAuthClient.mayCarryTokens(url) else {
            log.debug("OAuth is off for this server: it is plain http:// beyond loopback, where a bearer token would travel in the clear")
            return nil
        }
        let transport = LoopTransport(loop: loop, options: config.remote, log: log)
        return UpstreamAuthorization(
            server: config.name, url: url, settings: config.remote.oauth, client: OAuthClient(transport: transport), loop: loop, log: log, now: now)
    }

    init(server: String, url: HTTPURL, settings: OAuthSettings, client: OAuthClient, loop: EventLoop, log: Logger, now: @escaping () -> Double) {
        self.server = server
        self.url = url
        self.settings = settings
        self.store = CredentialStore(directory: settings.tokenDirectory)
        self.client = client
        self.loop = loop
        self.log = log
        self.now = now
        self.machine = CredentialMachine(
            server: server, loginCommand: settings.loginCommand(server: server), unattended: settings.grant == .clientCredentials)
        reload()
        scheduleWatch()
    }

    func observe(_ observer: AnyObject, _ callback: @escaping () -> Void) { observers[ObjectIdentifier(observer)] = callback }
    func forget(_ observer: AnyObject) { observers[ObjectIdentifier(observer)] = nil }
    private func credentialsChanged() { for callback in observers.values { callback() } }

    /// Why requests cannot be authorized until a person or the configuration acts; nil when they can.
    var blockingReason: String? {
        if case .failed(let reason, _, _) = machine.state { return reason }
        return nil
    }

    func stop() {
        stopped = true
        if let watchTimer { loop.cancelTimer(watchTimer) }
        if let renewTimer { loop.cancelTimer(renewTimer) }
        watchTimer = nil
        renewTimer = nil
        answerWaiters(.fail("server '\(server)' is shutting down"))
    }

    // MARK: For the links

    /// The `Authorization` value for the next request, now or once a renewal ends.
    func authorize(_ completion: @escaping Completion) {
        guard !stopped else { return completion(.failure(AuthorizationDenied(reason: "server '\(server)' is shutting down"))) }
        let (decision, effects) = machine.authorize(now: now())
        decide(decision, completion)
        perform(effects)
    }

    /// The server answered 401 or 403 to a request sent with `sentHeader`: whether and how to retry.
    func rejected(status: Int, headers: HTTPHeaders, sentHeader: String?, _ completion: @escaping Completion) {
        counters.rejections += 1
        let challenge = BearerChallenge.parse(headers.values(for: "WWW-Authenticate"))
        if let challenge { lastChallenge = challenge }
        let (decision, effects) = machine.rejected(status: status, challenge: challenge, sentHeader: sentHeader, now: now())
        if case .fail(let reason) = decision { log.warning(reason) }
        decide(decision, completion)
        perform(effects)
    }

    /// The header to send where waiting is not possible (the session's closing DELETE).
    var currentHeader: String? {
        if case .usable(let c) = machine.state { return c.authorizationHeader }
        return nil
    }

    var status: UpstreamStatus.OAuthStatus {
        let isAuthorized = if case .usable = machine.state { true } else { false }
        return UpstreamStatus.OAuthStatus(
            isAuthorized: isAuthorized, renewals: counters.renewals, renewalFailures: counters.renewalFailures,
            rejections: counters.rejections, json: statusSummary)
    }

    /// For the status dump: the state, who issued the token, its scopes and expiry; never a token.
    private var statusSummary: JSONObject {
        var summary: JSONObject = [
            "renewals": .number(JSONNumber(counters.renewals)), "renewalFailures": .number(JSONNumber(counters.renewalFailures)),
            "rejections": .number(JSONNumber(counters.rejections)),
        ]
        switch machine.state {
        case .absent: summary["state"] = "no token"
        case .usable: summary["state"] = "authorized"
        case .renewing: summary["state"] = "renewing"
        case .failed(let reason, _, let retryAt):
            summary["state"] = .string(retryAt == nil ? "needs login" : "retrying")
            summary["reason"] = .string(reason)
        }
        if let c = machine.credentials {
            summary["issuer"] = .string(c.issuer)
            summary["client"] = .string(c.client.source.rawValue)
            summary["scopes"] = .array(c.scopes.map(JSONValue.string))
            if let expiresAt = c.expiresAt { summary["expiresInSeconds"] = .number(JSONNumber(Int64((expiresAt - now()).rounded()))) }
        }
        return summary
    }

    // MARK: Driving the machine

    private func decide(_ decision: CredentialMachine.Decision, _ completion: @escaping Completion) {
        switch decision {
        case .send(let header): completion(.success(header))
        case .wait: waiters.append(completion)
        case .fail(let reason): completion(.failure(AuthorizationDenied(reason: reason)))
        }
    }

    private func answerWaiters(_ decision: CredentialMachine.Decision) {
        for waiter in waiters.takeAll() { decide(decision, waiter) }
    }

    private func perform(_ effects: [CredentialMachine.Effect]) {
        for effect in effects {
            switch effect {
            case .renew(let credentials, let scopes): renew(credentials, scopes: scopes)
            case .save(let credentials):
                do {
                    try store.save(credentials)
                    stamp = store.stamp(server: server)
                } catch {
                    log.error("cannot save the token file: \(error)")
                }
            case .resumeWaiters(let decision): answerWaiters(decision)
            case .renewAt(let at):
                if let renewTimer { loop.cancelTimer(renewTimer) }
                guard !stopped else { break }
                let delay = max(at - now(), 0)
                renewTimer = loop.schedule(afterNanoseconds: UInt64(delay * 1e9)) { [weak self] in
                    guard let self else { return }
                    renewTimer = nil
                    perform(machine.renewalDue(now: now()))
                }
            }
        }
    }

    /// Obtains a token off the loop (a refresh, or the client-credentials grant), writes the
    /// token file, then reports back on the loop.
    private func renew(_ credentials: StoredCredentials?, scopes: [String]) {
        guard !stopped else { return }
        counters.renewals += 1
        let job = Renewal(
            client: client, store: store, server: server, url: url, settings: settings, credentials: credentials, scopes: scopes,
            challenge: lastChallenge, now: now())
        let me = LoopBound(WeakReference(self), loop: loop)
        log.info(credentials?.refreshToken != nil ? "refreshing the access token" : "requesting an access token (client credentials)")
        Task {
            let result = await job.run()
            me.loop.execute { me.value.object?.renewalFinished(result) }
        }
    }

    private func renewalFinished(_ result: Renewal.Result) {
        let outcome = result.outcome
        if let saveProblem = result.saveProblem { log.error("the renewed token works but could not be saved, so a restart will need a new one: \(saveProblem)") }
        switch outcome {
        case .success(let fresh):
            let expiry = fresh.expiresAt.map { " (expires in \(Int($0 - now())) s)" } ?? ""
            log.info("access token renewed\(expiry)")
        case .failure(let error):
            counters.renewalFailures += 1
            log.error("token renewal failed: \(error)")
        }
        let wasFailed = if case .failed = machine.state { true } else { false }
        perform(machine.renewed(outcome, now: now()))
        // Only what this renewal wrote counts as seen: a login saved meanwhile is still read.
        if let written = result.stamp { stamp = written }
        if case .success = outcome, wasFailed { credentialsChanged() }
    }

    // MARK: Watching the token file

    private func scheduleWatch() {
        watchTimer = loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self] in
            guard let self else { return }
            if case .renewing = machine.state {} else if store.stamp(server: server) != stamp { reload() }
            scheduleWatch()
        }
    }

    private func reload() {
        stamp = store.stamp(server: server)
        let before = machine.credentials
        let stored = store.load(server: server, resource: ResourceIdentifier.canonical(url))
        perform(machine.loaded(stored, now: now()))
        if stored != nil && stored != before {
            if before != nil || watchTimer != nil { log.notice("loaded new credentials from the token file") }
            credentialsChanged()
        }
    }
}

/// Why a request to a server was not sent or not retried.
struct AuthorizationDenied: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

final class WeakReference<Object: AnyObject> {
    weak var object: Object?
    init(_ object: Object) { self.object = object }
}

/// One renewal's work, all of it Sendable, run off the event loop. It holds the token file's
/// lock from reading to writing, so that two instances (a reload's old and new generation,
/// `plugboard call` beside the daemon) never spend the same refresh token twice.
private struct Renewal: Sendable {
    struct Result: Sendable {
        var outcome: Swift.Result<StoredCredentials, OAuthError>
        var saveProblem: String?
        /// The token files as this renewal left them.
        var stamp: [String: String]?
    }

    let client: OAuthClient
    let store: CredentialStore
    let server: String
    let url: HTTPURL
    let settings: OAuthSettings
    let credentials: StoredCredentials?
    let scopes: [String]
    let challenge: BearerChallenge?
    let now: Double

    func run() async -> Result {
        let lock = credentials.flatMap { store.lock(server: server, issuer: $0.issuer) }
        defer { lock?.release() }
        do {
            if let current = adoptNewer() { return Result(outcome: .success(current), stamp: store.stamp(server: server)) }
            let fresh = try await obtain()
            do { try store.save(fresh) } catch { return Result(outcome: .success(fresh), saveProblem: "\(error)") }
            return Result(outcome: .success(fresh), stamp: store.stamp(server: server))
        } catch {
            return Result(outcome: .failure(error))
        }
    }

    /// Another process renewed (or a person logged in) since these credentials were read: use theirs.
    private func adoptNewer() -> StoredCredentials? {
        guard let credentials, let stored = store.load(server: server, resource: credentials.resource),
            stored.accessToken != credentials.accessToken, CredentialMachine.isFresh(stored, now: now),
            Set(scopes).isSubset(of: Set(stored.scopes))
        else { return nil }
        return stored
    }

    private func obtain() async throws(OAuthError) -> StoredCredentials {
        var credentials = credentials
        // A pre-registered client's secret lives in the configuration, not in token files.
        if credentials?.client.source == .preRegistered, credentials?.client.clientID == settings.clientID {
            credentials?.client.clientSecret = settings.clientSecret
        }
        if settings.grant == .clientCredentials { return try await clientCredentials(credentials) }
        guard let credentials, credentials.refreshToken != nil else {
            throw .refused(endpoint: credentials?.tokenEndpoint ?? url.description, status: 0, error: "invalid_grant", description: "no refresh token")
        }
        let response = try await client.refresh(credentials)
        return credentials.renewed(by: response, requestedScopes: credentials.scopes, now: now)
    }

    /// Machine-to-machine: a new grant each time (with the union of scopes after a step-up).
    private func clientCredentials(_ credentials: StoredCredentials?) async throws(OAuthError) -> StoredCredentials {
        guard let clientID = settings.clientID else { throw .needsClient("`grant = \"client_credentials\"` needs `client_id` and `client_secret`") }
        if let credentials, credentials.client.clientID == clientID {
            let response = try await client.clientCredentials(
                client: credentials.client, tokenEndpoint: credentials.tokenEndpoint, resource: credentials.resource, scopes: scopes)
            return credentials.renewed(by: response, requestedScopes: scopes, now: now)
        }
        var challenge = challenge
        if challenge == nil { challenge = try await client.probe(url).challenge }
        let target = try await client.discover(url, challenge: challenge, preferredIssuer: settings.issuer)
        let wanted = scopes.isEmpty ? (settings.scopes.isEmpty ? target.initialScopes : settings.scopes) : scopes
        return try await client.grantClientCredentials(at: target, settings: settings, serverName: server, scopes: wanted, now: now)
    }
}
