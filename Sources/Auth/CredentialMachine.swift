import Glibc

/// The life of one remote server's credentials in a running instance, as a value: the driver
/// feeds it events (a request about to go out, a 401 or 403, a renewal's outcome, the token
/// file changing) and carries out the effects it returns. Time is passed in, in seconds since
/// the epoch, so tests need no clock.
public struct CredentialMachine: Sendable {
    public enum State: Sendable, Equatable {
        /// No token: requests go out without one, for a server that may need none.
        case absent
        case usable(StoredCredentials)
        /// A new access token is on its way; requests wait for it.
        case renewing(StoredCredentials?)
        /// Renewal failed. With `retryAt`, a later request tries again (a network failure);
        /// without it, only a new login helps and calls fail at once.
        case failed(reason: String, StoredCredentials?, retryAt: Double?)
    }

    public enum Decision: Sendable, Equatable {
        /// Send now, with this `Authorization` value (nil: none).
        case send(String?)
        /// Wait for the renewal in progress; the driver answers waiters when it ends.
        case wait
        case fail(String)
    }

    public enum Effect: Sendable, Equatable {
        /// Obtain a new access token and write it to the token file: refresh `credentials`, or
        /// with the client-credentials grant request one with `scopes`.
        case renew(StoredCredentials?, scopes: [String])
        /// Write the token file (scopes a server asked for, for the next login).
        case save(StoredCredentials)
        /// Answer every waiting request.
        case resumeWaiters(Decision)
        /// Renew ahead of expiry at this time.
        case renewAt(Double)
    }

    public let server: String
    /// `plugboard auth login SERVER --config DIR`.
    public let loginCommand: String
    /// The client-credentials grant: plugboard obtains tokens itself, no person involved.
    public let unattended: Bool
    public private(set) var state = State.absent
    private var failedRenewals = 0

    /// Renew this long before expiry; a token that lives less than ten minutes, a tenth of its life before.
    static let renewalMargin = 60.0
    static let retryDelays: [Double] = [1, 2, 5, 10, 30]

    public init(server: String, loginCommand: String, unattended: Bool) {
        self.server = server
        self.loginCommand = loginCommand
        self.unattended = unattended
    }

    public var credentials: StoredCredentials? {
        switch state {
        case .absent: nil
        case .usable(let c): c
        case .renewing(let c), .failed(_, let c, _): c
        }
    }

    private var needsLogin: String { "server '\(server)' needs authorization: run `\(loginCommand)`" }

    // MARK: Events

    /// The token file was read (at start, or because it changed on disk).
    public mutating func loaded(_ stored: StoredCredentials?, now: Double) -> [Effect] {
        if case .renewing = state { return [] }
        guard let stored else {
            if credentials != nil { state = .absent }
            return []
        }
        if stored == credentials, case .usable = state { return [] }
        state = .usable(stored)
        failedRenewals = 0
        return scheduled(stored, now: now).map { [.renewAt($0)] } ?? []
    }

    /// A request is about to be sent.
    public mutating func authorize(now: Double) -> (Decision, [Effect]) {
        switch state {
        case .absent:
            guard unattended else { return (.send(nil), []) }
            state = .renewing(nil)
            return (.wait, [.renew(nil, scopes: [])])
        case .usable(let c):
            guard !Self.isFresh(c, now: now) else { return (.send(c.authorizationHeader), []) }
            return renew(c, scopes: c.scopes)
        case .renewing(let c):
            // A renewal ahead of expiry does not hold up requests the current token still serves.
            if let c, Self.isFresh(c, now: now) { return (.send(c.authorizationHeader), []) }
            return (.wait, [])
        case .failed(let reason, let c, let retryAt):
            guard let retryAt, now >= retryAt else { return (.fail(reason), []) }
            return renew(c, scopes: c?.scopes ?? [])
        }
    }

    /// The server refused a request that carried `sentHeader` (nil: none) with 401 or 403.
    public mutating func rejected(status: Int, challenge: BearerChallenge?, sentHeader: String?, now: Double) -> (Decision, [Effect]) {
        let current = credentials
        if let current, case .usable = state, sentHeader != current.authorizationHeader {
            // A newer token arrived while this request was out: try it.
            return (.send(current.authorizationHeader), [])
        }
        if status == 403 {
            guard let challenge, challenge.isInsufficientScope else {
                return (.fail("server '\(server)' refused the request (HTTP 403\(challenge?.errorDescription.map { ": \($0)" } ?? ""))"), [])
            }
            let wanted = Self.union(current?.scopes ?? [], current?.wantedScopes ?? [], challenge.scopes)
            if unattended { return renew(current, scopes: wanted) }
            let hint = "server '\(server)' needs scope \(challenge.scopes.joined(separator: " ")) for this request: run `\(loginCommand)` to grant it"
            guard var updated = current else { return (.fail(hint), []) }
            let missing = wanted.filter { !updated.scopes.contains($0) && !updated.wantedScopes.contains($0) }
            guard !missing.isEmpty else { return (.fail(hint), []) }
            updated.wantedScopes += missing
            replaceCredentials(with: updated)
            return (.fail(hint), [.save(updated)])
        }
        switch state {
        case .renewing: return (.wait, [])
        case .failed(let reason, _, let retryAt) where retryAt == nil: return (.fail(reason), [])
        default: break
        }
        // The server no longer takes this token, whatever its stated lifetime.
        var spent = current
        if let expiresAt = spent?.expiresAt { spent?.expiresAt = min(expiresAt, now) } else { spent?.expiresAt = now }
        if unattended || spent?.refreshToken != nil { return renew(spent, scopes: Self.union(spent?.scopes ?? [], challenge?.scopes ?? [])) }
        state = .failed(reason: needsLogin, spent, retryAt: nil)
        return (.fail(needsLogin), [])
    }

    /// A renewal ended.
    public mutating func renewed(_ outcome: Result<StoredCredentials, OAuthError>, now: Double) -> [Effect] {
        let previous = credentials
        switch outcome {
        case .success(var fresh):
            fresh.wantedScopes = Self.union(fresh.wantedScopes, previous?.wantedScopes ?? []).filter { !fresh.scopes.contains($0) }
            state = .usable(fresh)
            failedRenewals = 0
            var effects: [Effect] = [.resumeWaiters(.send(fresh.authorizationHeader))]
            if let at = scheduled(fresh, now: now) { effects.append(.renewAt(at)) }
            return effects
        case .failure where previous.map { Self.isFresh($0, now: now) } ?? false:
            return keepServing(previous!, after: outcome, now: now)
        case .failure(let error) where error.isInvalidGrant || (!unattended && previous?.refreshToken == nil):
            let reason =
                unattended
                ? "server '\(server)': the authorization server refused plugboard's client credentials (\(error)); fix [servers.\(server).oauth]"
                : "server '\(server)': its authorization has expired or was revoked (\(error)); run `\(loginCommand)`"
            state = .failed(reason: reason, previous, retryAt: nil)
            return [.resumeWaiters(.fail(reason))]
        case .failure(let error):
            let delay = Self.retryDelays[min(failedRenewals, Self.retryDelays.count - 1)]
            failedRenewals += 1
            let reason = "server '\(server)': cannot renew its access token (\(error)); retrying in \(Int(delay)) s"
            state = .failed(reason: reason, previous, retryAt: now + delay)
            return [.resumeWaiters(.fail(reason)), .renewAt(now + delay)]
        }
    }

    /// A renewal ahead of expiry failed: the token still serves until then. A refused grant is
    /// not tried again (the token's expiry, or a 401, ends it); a network failure is, later.
    private mutating func keepServing(_ previous: StoredCredentials, after outcome: Result<StoredCredentials, OAuthError>, now: Double) -> [Effect] {
        var kept = previous
        var effects: [Effect] = [.resumeWaiters(.send(previous.authorizationHeader))]
        if case .failure(let error) = outcome, error.isInvalidGrant {
            kept.refreshToken = nil
        } else {
            let delay = Self.retryDelays[min(failedRenewals, Self.retryDelays.count - 1)]
            failedRenewals += 1
            effects.append(.renewAt(now + delay))
        }
        state = .usable(kept)
        return effects
    }

    /// A renewal timer fired: ahead of expiry, or to retry after a failure.
    public mutating func renewalDue(now: Double) -> [Effect] {
        switch state {
        case .usable(let c):
            guard c.refreshToken != nil || unattended, let at = scheduled(c, now: now), now >= at - 1 || failedRenewals > 0 else { return [] }
            return renew(c, scopes: c.scopes).1
        case .failed(_, let c, let retryAt?) where now >= retryAt - 0.5:
            return renew(c, scopes: c?.scopes ?? []).1
        default:
            return []
        }
    }

    // MARK: Helpers

    /// Whether `c` may still be sent: not within its skew of expiry.
    public static func isFresh(_ c: StoredCredentials, now: Double) -> Bool {
        guard let expiresAt = c.expiresAt else { return true }
        return now < expiresAt - skew(c)
    }

    /// Puts `updated` in place of the current credentials without changing what is going on.
    private mutating func replaceCredentials(with updated: StoredCredentials) {
        switch state {
        case .absent, .usable: state = .usable(updated)
        case .renewing: state = .renewing(updated)
        case .failed(let reason, _, let retryAt): state = .failed(reason: reason, updated, retryAt: retryAt)
        }
    }

    private mutating func renew(_ c: StoredCredentials?, scopes: [String]) -> (Decision, [Effect]) {
        guard unattended || c?.refreshToken != nil else {
            state = .failed(reason: needsLogin, c, retryAt: nil)
            return (.fail(needsLogin), [])
        }
        state = .renewing(c)
        return (.wait, [.renew(c, scopes: scopes)])
    }

    /// When to renew `c` ahead of its expiry; nil when it does not expire or cannot be renewed.
    private func scheduled(_ c: StoredCredentials, now: Double) -> Double? {
        guard let expiresAt = c.expiresAt, c.refreshToken != nil || unattended else { return nil }
        let lifetime = max(expiresAt - c.obtainedAt, 0)
        return expiresAt - min(Self.renewalMargin, lifetime / 10)
    }

    /// A token this close to expiry is renewed before use, so that it cannot expire in flight:
    /// 5 s, or a quarter of the life of a very short-lived token.
    static func skew(_ c: StoredCredentials) -> Double {
        guard let expiresAt = c.expiresAt else { return 0 }
        return min(5, max(expiresAt - c.obtainedAt, 0) / 4)
    }

    public static func union(_ lists: [String]...) -> [String] {
        var seen: [String] = []
        for scope in lists.joined() where !seen.contains(scope) { seen.append(scope) }
        return seen
    }
}

/// Seconds since the epoch, as token lifetimes are kept.
public enum WallClock {
    @Sendable public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
