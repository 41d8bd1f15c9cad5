import Auth
import Config
import HTTP
import JSON
import Locking
import Testing

/// Answers from a table of URL → (status, body); records every request.
final class ScriptedTransport: OAuthTransport, @unchecked Sendable {
    private let answers: [String: (Int, String)]
    private let seen = Locked<[OAuthHTTPRequest]>([])

    init(_ answers: [String: (Int, String)]) {
        self.answers = answers
    }

    var requests: [OAuthHTTPRequest] { seen.withLock { $0 } }
    var urls: [String] { requests.map(\.url) }

    func perform(_ request: OAuthHTTPRequest) async throws(OAuthError) -> OAuthHTTPResponse {
        seen.withLock { $0.append(request) }
        guard let (status, body) = answers[request.url] else { return OAuthHTTPResponse(status: 404) }
        return OAuthHTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }
}

@Suite("OAuthClient: discovery, registration and grants, against scripted servers")
struct OAuthClientTests {
    let server = HTTPURL("https://mcp.example.com/public/mcp")!
    let resourceMetadata = #"{"resource":"https://mcp.example.com/public/mcp","authorization_servers":["https://auth.example.com/tenant1"],"scopes_supported":["files:read"]}"#

    func asMetadata(_ extra: String = "") -> String {
        #"{"issuer":"https://auth.example.com/tenant1","authorization_endpoint":"https://auth.example.com/tenant1/authorize","token_endpoint":"https://auth.example.com/tenant1/token","code_challenge_methods_supported":["S256"]"#
            + extra + "}"
    }

    @Test("without resource_metadata: the path-inserted well-known URI, then the root; then RFC 8414 path insertion, then OIDC")
    func discoveryOrder() async throws {
        let transport = ScriptedTransport([
            "https://mcp.example.com/.well-known/oauth-protected-resource": (200, resourceMetadata),
            "https://auth.example.com/.well-known/openid-configuration/tenant1": (200, asMetadata()),
        ])
        let target = try await OAuthClient(transport: transport).discover(server, challenge: BearerChallenge())
        #expect(transport.urls == [
            "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
            "https://mcp.example.com/.well-known/oauth-protected-resource",
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
        ])
        #expect(target.server.issuer == "https://auth.example.com/tenant1")
        #expect(target.resource == "https://mcp.example.com/public/mcp")
        #expect(target.initialScopes == ["files:read"])
    }

    @Test("the root document may describe the origin that the server's path is under")
    func rootDocumentForTheOrigin() async throws {
        let transport = ScriptedTransport([
            "https://mcp.example.com/.well-known/oauth-protected-resource": (200, resourceMetadata.replacingOccurrences("/public/mcp", "")),
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1": (200, asMetadata()),
        ])
        let target = try await OAuthClient(transport: transport).discover(server, challenge: nil)
        #expect(target.resource == "https://mcp.example.com/public/mcp")
        let elsewhere = ScriptedTransport([
            "https://mcp.example.com/.well-known/oauth-protected-resource": (200, resourceMetadata.replacingOccurrences("/public/mcp", "/private"))
        ])
        await #expect(throws: OAuthError.self) { try await OAuthClient(transport: elsewhere).discover(server, challenge: nil) }
    }

    @Test("the challenge's resource_metadata and scope come first")
    func challengeFirst() async throws {
        let transport = ScriptedTransport([
            "https://mcp.example.com/meta": (200, resourceMetadata),
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1": (200, asMetadata()),
        ])
        let challenge = BearerChallenge(scopes: ["files:write"], resourceMetadata: "/meta")
        let target = try await OAuthClient(transport: transport).discover(server, challenge: challenge)
        #expect(transport.urls.first == "https://mcp.example.com/meta")
        #expect(target.initialScopes == ["files:write"])
    }

    @Test("metadata that describes another resource or issuer is refused")
    func mismatchedDocuments() async throws {
        let otherResource = ScriptedTransport([
            "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp": (200, resourceMetadata.replacingOccurrences("public/mcp", "evil"))
        ])
        await #expect(throws: OAuthError.self) { try await OAuthClient(transport: otherResource).discover(server, challenge: nil) }
        let otherIssuer = ScriptedTransport([
            "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp": (200, resourceMetadata),
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1": (200, asMetadata().replacingOccurrences("tenant1\",\"auth", "evil\",\"auth")),
        ])
        do {
            _ = try await OAuthClient(transport: otherIssuer).discover(server, challenge: nil)
            Issue.record("accepted metadata of another issuer")
        } catch {
            #expect("\(error)".contains("RFC 8414"))
        }
    }

    @Test("an authorization server over plain http on a public host is refused")
    func insecureIssuer() async {
        let transport = ScriptedTransport([:])
        await #expect(throws: OAuthError.insecureEndpoint(url: "http://auth.example.com")) {
            try await OAuthClient(transport: transport).authorizationServerMetadata(issuer: "http://auth.example.com")
        }
        #expect(transport.requests.isEmpty)
    }

    @Test("registration order: pre-registered, then a metadata document where supported, then DCR as a native app")
    func registrationOrder() async throws {
        let supportsAll = try AuthorizationServerMetadata.decode(
            Array(asMetadata(#","registration_endpoint":"https://auth.example.com/register","client_id_metadata_document_supported":true,"token_endpoint_auth_methods_supported":["client_secret_post"]"#).utf8),
            issuer: "https://auth.example.com/tenant1", from: "test")
        let transport = ScriptedTransport(["https://auth.example.com/register": (201, #"{"client_id":"dyn-1"}"#)])
        let client = OAuthClient(transport: transport)
        let redirect = "http://127.0.0.1:8765/callback"

        let pre = try await client.register(
            at: supportsAll, settings: OAuthSettings(clientID: "pb", clientSecret: SecretText("s"), clientMetadataURL: "https://me.example/c.json"),
            redirectURI: redirect, serverName: "notes")
        #expect(pre == ClientRegistration(clientID: "pb", clientSecret: SecretText("s"), authMethod: "client_secret_post", source: .preRegistered))

        let document = try await client.register(
            at: supportsAll, settings: OAuthSettings(clientMetadataURL: "https://me.example/c.json"), redirectURI: redirect, serverName: "notes")
        #expect(document == ClientRegistration(clientID: "https://me.example/c.json", source: .metadataDocument))

        var noDocuments = supportsAll
        noDocuments.clientIDMetadataDocumentSupported = false
        let dynamic = try await client.register(
            at: noDocuments, settings: OAuthSettings(clientMetadataURL: "https://me.example/c.json"), redirectURI: redirect, serverName: "notes")
        #expect(dynamic == ClientRegistration(clientID: "dyn-1", source: .dynamic))
        let body = try JSONParser.parse(transport.requests.last!.body)
        #expect(body["application_type"] == "native")
        #expect(body["redirect_uris"] == [.string(redirect)])

        var nothing = noDocuments
        nothing.registrationEndpoint = nil
        do {
            _ = try await client.register(at: nothing, settings: OAuthSettings(), redirectURI: redirect, serverName: "notes")
            Issue.record("registered without any means")
        } catch {
            #expect("\(error)".contains("set `client_id` (and `client_secret`) in [servers.notes.oauth]"))
        }
    }

    @Test("pre-registered credentials bound to another issuer are not used")
    func issuerBinding() async throws {
        let metadata = try AuthorizationServerMetadata.decode(Array(asMetadata().utf8), issuer: "https://auth.example.com/tenant1", from: "test")
        await #expect(throws: OAuthError.self) {
            try await OAuthClient(transport: ScriptedTransport([:])).register(
                at: metadata, settings: OAuthSettings(clientID: "pb", issuer: "https://old-auth.example.com"), redirectURI: nil, serverName: "notes")
        }
    }

    @Test("the token endpoint: Basic client authentication with form-encoded parts, resource on every grant, errors by code only")
    func tokenRequests() async throws {
        let transport = ScriptedTransport([
            "https://auth.example.com/token": (400, #"{"error":"invalid_grant","error_description":"refresh token revoked","debug":"SECRET-ish"}"#)
        ])
        let stored = StoredCredentials(
            server: "notes", resource: "https://mcp.example.com/mcp", issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token",
            client: ClientRegistration(clientID: "pb:1", clientSecret: SecretText("s&t"), authMethod: "client_secret_basic", source: .preRegistered),
            accessToken: SecretText("a"), refreshToken: SecretText("r"), obtainedAt: 0)
        do {
            _ = try await OAuthClient(transport: transport).refresh(stored)
            Issue.record("a refused refresh succeeded")
        } catch {
            #expect(error.isInvalidGrant)
            #expect(!"\(error)".contains("SECRET"))
            #expect("\(error)".contains("invalid_grant: refresh token revoked"))
        }
        let request = try #require(transport.requests.first)
        #expect(request.headers.contains { $0 == ("Authorization", "Basic cGIlM0ExOnMlMjZ0") })
        let fields = FormEncoding.decode(String(decoding: request.body, as: UTF8.self))
        #expect(fields.map(\.0) == ["grant_type", "refresh_token", "resource"])
        #expect(fields.last?.1 == "https://mcp.example.com/mcp")
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
