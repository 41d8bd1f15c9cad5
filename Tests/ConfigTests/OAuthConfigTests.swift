import Config
import Testing

@Suite("[servers.NAME.oauth] and [auth]")
struct OAuthConfigTests {
    private func remote(_ extra: String) -> String {
        "[servers.notes]\nurl = \"https://mcp.example.com/mcp\"\n" + extra
    }

    @Test("every url server may use OAuth; tokens default to $STATE_DIRECTORY/tokens, else the XDG state directory")
    func defaults() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": remote("")])
        defer { directory.remove() }
        let systemd = try directory.load(environment: ["STATE_DIRECTORY": "/var/lib/plugboard:/var/lib/other", "HOME": "/home/u"]).servers[0].remote.oauth
        #expect(systemd.enabled && systemd.grant == .authorizationCode && systemd.clientID == nil)
        #expect(systemd.tokenDirectory == "/var/lib/plugboard/tokens")
        let person = try directory.load(environment: ["HOME": "/home/u"]).servers[0].remote.oauth
        #expect(person.tokenDirectory == "/home/u/.local/state/plugboard/tokens")
        #expect(person.loginCommand(server: "notes") == "plugboard auth login notes --config \(directory.path)")
    }

    @Test("a pre-registered client with its secret from a file, scopes, a redirect port and [auth] token_directory")
    func preRegistered() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": """
                [auth]
                token_directory = "state/tokens"

                """ + remote("""
                oauth = { client_id = "pb", client_secret = "${file:secret.txt}", issuer = "https://auth.example.com", scopes = ["notes:read"], redirect_port = 8765 }
                """),
            "secret.txt": "s3cret\n",
        ])
        defer { directory.remove() }
        let oauth = try directory.load().servers[0].remote.oauth
        #expect(oauth.clientID == "pb" && oauth.clientSecret?.revealed == "s3cret" && oauth.issuer == "https://auth.example.com")
        #expect(oauth.scopes == ["notes:read"] && oauth.redirectPort == 8765)
        #expect(oauth.tokenDirectory == directory.path + "/state/tokens")
        #expect(!"\(oauth)".contains("s3cret"))
    }

    @Test("a configured Authorization header turns OAuth off, and an oauth table beside it is an error")
    func staticHeaderWins() throws {
        let plain = try TemporaryConfigDirectory(["plugboard.toml": remote(#"headers = { Authorization = "Bearer k" }"#)])
        defer { plain.remove() }
        #expect(try plain.load().servers[0].remote.oauth.enabled == false)
        let both = try TemporaryConfigDirectory(["plugboard.toml": remote("headers = { Authorization = \"Bearer k\" }\n[servers.notes.oauth]\nclient_id = \"x\"\n")])
        defer { both.remove() }
        #expect(both.errorLines() == ["plugboard.toml:4:1: [servers.notes.oauth] has no effect: `headers.Authorization` already authorizes plugboard to this server; keep one"])
    }

    @Test("mistakes are reported where they are")
    func mistakes() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote("""
                [servers.notes.oauth]
                client_secret = "x"
                client_metadata_url = "http://example.com/client.json"
                grant = "client_credentials"
                redirect_port = 70000
                scopes = ["a b"]
                colour = "blue"
                """)
        ])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.contains { $0.hasPrefix("plugboard.toml:9:1: unknown key \"colour\" in [servers.notes.oauth]") })
        #expect(lines.contains("plugboard.toml:4:1: `client_secret` needs the `client_id` it belongs to"))
        #expect(lines.contains { $0.hasPrefix("plugboard.toml:5:23: `client_metadata_url` must be an https:// URL with a path") })
        #expect(lines.contains("plugboard.toml:6:9: `grant = \"client_credentials\"` needs `client_id` and `client_secret`"))
        #expect(lines.contains("plugboard.toml:7:17: `redirect_port` must be a TCP port (0 to 65535), found 70000"))
        #expect(lines.contains { $0.hasPrefix("plugboard.toml:8:10: `scopes` entries are single scope tokens") })
    }
}
