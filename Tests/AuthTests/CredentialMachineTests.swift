import Auth
import Config
import Testing

@Suite("CredentialMachine: when a request waits, goes out, or fails, without a clock or a network")
struct CredentialMachineTests {
    let login = "plugboard auth login notes --config /etc/plugboard"

    func credentials(token: String = "a1", refresh: String? = "r1", obtainedAt: Double = 1000, lifetime: Double? = 3600, scopes: [String] = ["notes:read"])
        -> StoredCredentials
    {
        StoredCredentials(
            server: "notes", resource: "https://mcp.example.com/mcp", issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token",
            client: ClientRegistration(clientID: "c", source: .dynamic), accessToken: SecretText(token), refreshToken: refresh.map(SecretText.init),
            expiresAt: lifetime.map { obtainedAt + $0 }, scopes: scopes, obtainedAt: obtainedAt)
    }

    func machine(_ loaded: StoredCredentials? = nil, unattended: Bool = false) -> CredentialMachine {
        var machine = CredentialMachine(server: "notes", loginCommand: login, unattended: unattended)
        _ = machine.loaded(loaded, now: 1000)
        return machine
    }

    @Test("without a token a request goes out bare: the server may need none")
    func noTokenSendsBare() {
        var m = machine()
        #expect(m.authorize(now: 1000).0 == .send(nil))
    }

    @Test("a fresh token is sent, and renewal is planned a minute before expiry")
    func freshToken() {
        var m = CredentialMachine(server: "notes", loginCommand: login, unattended: false)
        #expect(m.loaded(credentials(), now: 1000) == [.renewAt(4540)])
        #expect(m.authorize(now: 2000).0 == .send("Bearer a1"))
    }

    @Test("an expired token is refreshed before use; waiting requests get the new one")
    func expiredTokenIsRefreshedFirst() {
        var m = machine(credentials())
        let (decision, effects) = m.authorize(now: 4599)
        #expect(decision == .wait)
        #expect(effects == [.renew(credentials(), scopes: ["notes:read"])])
        #expect(m.authorize(now: 4599).0 == .wait)
        let fresh = credentials(token: "a2", refresh: "r2", obtainedAt: 4600)
        #expect(m.renewed(.success(fresh), now: 4600) == [.resumeWaiters(.send("Bearer a2")), .renewAt(8140)])
        #expect(m.authorize(now: 4601).0 == .send("Bearer a2"))
    }

    @Test("a 401 leads to one refresh; a refused refresh fails every call at once with the login to run")
    func revokedRefreshToken() {
        var m = machine(credentials())
        #expect(m.rejected(status: 401, challenge: BearerChallenge(error: "invalid_token"), sentHeader: "Bearer a1", now: 2000).0 == .wait)
        let refusal = OAuthError.refused(endpoint: "https://auth.example.com/token", status: 400, error: "invalid_grant", description: "revoked")
        let effects = m.renewed(.failure(refusal), now: 2001)
        guard case .resumeWaiters(.fail(let reason)) = effects.first else { Issue.record("waiters not failed: \(effects)"); return }
        #expect(reason.contains("run `\(login)`") && reason.contains("invalid_grant"))
        #expect(m.authorize(now: 2002).0 == .fail(reason))
        #expect(m.authorize(now: 999_999).0 == .fail(reason))
    }

    @Test("a 401 with no refresh token asks for a login")
    func unauthorizedWithoutRefresh() {
        var m = machine(credentials(refresh: nil))
        #expect(m.rejected(status: 401, challenge: nil, sentHeader: "Bearer a1", now: 2000).0
            == .fail("server 'notes' needs authorization: run `\(login)`"))
        var bare = machine()
        #expect(bare.rejected(status: 401, challenge: BearerChallenge(), sentHeader: nil, now: 2000).0
            == .fail("server 'notes' needs authorization: run `\(login)`"))
    }

    @Test("a refresh that cannot reach the server is retried later, and calls fail in between")
    func transientFailure() {
        var m = machine(credentials())
        _ = m.authorize(now: 4599)
        _ = m.renewed(.failure(.unreachable(url: "https://auth.example.com/token", reason: "connection refused")), now: 4600)
        guard case .fail(let reason) = m.authorize(now: 4600.5).0 else { Issue.record("not failing"); return }
        #expect(reason.contains("retrying in 1 s"))
        #expect(m.authorize(now: 4601).0 == .wait)
    }

    @Test("a 401 for a request that carried an older token retries with the current one")
    func staleTokenRetries() {
        var m = machine(credentials(token: "a2"))
        #expect(m.rejected(status: 401, challenge: nil, sentHeader: "Bearer a1", now: 2000).0 == .send("Bearer a2"))
    }

    @Test("insufficient_scope: the scopes are remembered for the next login, and the call fails saying so")
    func stepUpNeedsALogin() {
        var m = machine(credentials())
        let challenge = BearerChallenge(error: "insufficient_scope", scopes: ["notes:read", "notes:write"])
        let (decision, effects) = m.rejected(status: 403, challenge: challenge, sentHeader: "Bearer a1", now: 2000)
        guard case .fail(let reason) = decision, case .save(let saved)? = effects.first else { Issue.record("\(decision) \(effects)"); return }
        #expect(reason.contains("needs scope notes:read notes:write") && reason.contains(login))
        #expect(saved.wantedScopes == ["notes:write"] && saved.scopes == ["notes:read"])
        #expect(m.rejected(status: 403, challenge: challenge, sentHeader: "Bearer a1", now: 2001).1 == [])
    }

    @Test("insufficient_scope with client credentials: a new token with the union of scopes")
    func stepUpUnattended() {
        var m = machine(credentials(refresh: nil), unattended: true)
        let (decision, effects) = m.rejected(
            status: 403, challenge: BearerChallenge(error: "insufficient_scope", scopes: ["notes:write"]), sentHeader: "Bearer a1", now: 2000)
        #expect(decision == .wait)
        #expect(effects == [.renew(credentials(refresh: nil), scopes: ["notes:read", "notes:write"])])
    }

    @Test("client credentials: the first request waits for a token plugboard obtains itself")
    func unattendedStart() {
        var m = machine(unattended: true)
        let (decision, effects) = m.authorize(now: 1000)
        #expect(decision == .wait && effects == [.renew(nil, scopes: [])])
    }

    @Test("a new token file ends a failure that only a login could fix")
    func loginRecovers() {
        var m = machine(credentials(refresh: nil))
        _ = m.rejected(status: 401, challenge: nil, sentHeader: "Bearer a1", now: 2000)
        _ = m.loaded(credentials(token: "a9", obtainedAt: 2100), now: 2100)
        #expect(m.authorize(now: 2101).0 == .send("Bearer a9"))
    }

    @Test("the renewal timer acts only once it is due")
    func renewalTimer() {
        var m = machine(credentials())
        #expect(m.renewalDue(now: 3000) == [])
        #expect(m.renewalDue(now: 4540) == [.renew(credentials(), scopes: ["notes:read"])])
    }

    @Test("a very short-lived token is not treated as expired from the start")
    func shortLivedToken() {
        var m = machine(credentials(lifetime: 3))
        #expect(m.authorize(now: 1001).0 == .send("Bearer a1"))
        #expect(m.authorize(now: 1002.5).0 == .wait)
    }

    @Test("a renewal ahead of expiry holds up no request, and its failure leaves the token serving until it expires")
    func proactiveRenewalFailure() {
        var m = machine(credentials())
        #expect(m.renewalDue(now: 4540) == [.renew(credentials(), scopes: ["notes:read"])])
        #expect(m.authorize(now: 4541).0 == .send("Bearer a1"))
        let effects = m.renewed(.failure(.unreachable(url: "https://auth.example.com/token", reason: "timed out")), now: 4550)
        #expect(effects == [.resumeWaiters(.send("Bearer a1")), .renewAt(4551)])
        #expect(m.authorize(now: 4552).0 == .send("Bearer a1"))
        #expect(m.renewalDue(now: 4551) == [.renew(credentials(), scopes: ["notes:read"])])
    }

    @Test("a grant refused ahead of expiry: the token serves until it expires, then a login is asked for")
    func proactiveRenewalRefused() {
        var m = machine(credentials())
        _ = m.renewalDue(now: 4540)
        let refusal = OAuthError.refused(endpoint: "https://auth.example.com/token", status: 400, error: "invalid_grant", description: nil)
        #expect(m.renewed(.failure(refusal), now: 4541) == [.resumeWaiters(.send("Bearer a1"))])
        #expect(m.authorize(now: 4542).0 == .send("Bearer a1"))
        #expect(m.authorize(now: 4599).0 == .fail("server 'notes' needs authorization: run `\(login)`"))
    }

    @Test("a step-up challenge during a renewal does not end the renewal, and its scopes survive it")
    func stepUpDuringRenewal() {
        var m = machine(credentials())
        _ = m.rejected(status: 401, challenge: nil, sentHeader: "Bearer a1", now: 2000)
        let (decision, _) = m.rejected(
            status: 403, challenge: BearerChallenge(error: "insufficient_scope", scopes: ["notes:write"]), sentHeader: "Bearer a1", now: 2001)
        guard case .fail = decision, case .renewing = m.state else { Issue.record("\(decision) \(m.state)"); return }
        _ = m.renewed(.success(credentials(token: "a2", obtainedAt: 2002)), now: 2002)
        #expect(m.credentials?.wantedScopes == ["notes:write"])
    }

    @Test("a 401 marks the token spent: its refresh failing cannot fall back to it")
    func rejectedTokenIsSpent() {
        var m = machine(credentials())
        _ = m.rejected(status: 401, challenge: nil, sentHeader: "Bearer a1", now: 2000)
        let effects = m.renewed(.failure(.unreachable(url: "https://auth.example.com/token", reason: "refused")), now: 2001)
        guard case .resumeWaiters(.fail(let reason)) = effects.first else { Issue.record("\(effects)"); return }
        #expect(reason.contains("retrying in 1 s"))
        #expect(effects.last == .renewAt(2002))
    }
}

