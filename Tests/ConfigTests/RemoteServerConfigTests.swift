import Config
import Testing

@Suite("remote servers: https, headers with secret references, proxies")
struct RemoteServerConfigTests {
    private func remote(_ extra: String, url: String = "https://docs.example.com/mcp") -> String {
        "[servers.docs]\nurl = \"\(url)\"\n" + extra
    }

    @Test("headers expand ${env:} and ${file:} when the configuration is loaded; $${ stays literal")
    func headerReferences() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote(#"headers = { Authorization = "Bearer ${env:DOCS_KEY}", "X-Team" = "${file:team.txt}", "X-Literal" = "$${env:X}" }"#),
            "team.txt": "docs\n",
        ])
        defer { directory.remove() }
        let config = try directory.load(environment: ["DOCS_KEY": "k-123"])
        let headers = config.servers[0].remote.headers
        #expect(headers.map(\.name) == ["Authorization", "X-Team", "X-Literal"])
        #expect(headers.map(\.value.revealed) == ["Bearer k-123", "docs", "${env:X}"])
    }

    @Test("a secret's description never shows its value")
    func secretsAreRedacted() {
        let secret = SecretText("Bearer k-123")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(!"\(RemoteHeader(name: "Authorization", value: secret))".contains("k-123"))
    }

    @Test("a missing variable or file is an error at the header's value, naming the key but not the other values")
    func missingReferences() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote(#"headers = { Authorization = "Bearer ${env:NOPE}", "X-Key" = "${file:missing.txt}", "X-Bad" = "${vault:x}" }"#)
        ])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.count == 3)
        #expect(lines[0] == "plugboard.toml:3:29: `headers.Authorization`: the environment variable NOPE is not set")
        #expect(lines[1].hasPrefix("plugboard.toml:3:61: `headers.X-Key`: cannot read ") && lines[1].hasSuffix("missing.txt: No such file or directory"))
        #expect(lines[2] == "plugboard.toml:3:94: `headers.X-Bad`: `${vault:x}` is neither ${env:NAME} nor ${file:PATH}")
    }

    @Test("headers plugboard writes itself, bad names and values with line breaks are refused")
    func reservedHeaders() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote(#"headers = { Host = "x", "Mcp-Session-Id" = "y", "Bad Name" = "z", "X-Split" = "${env:SPLIT}" }"#)
        ])
        defer { directory.remove() }
        let lines = directory.errorLines(environment: ["SPLIT": "a\r\nInjected: yes"])
        #expect(lines.contains { $0.hasSuffix("`headers.Host` is set by plugboard itself and cannot be configured") })
        #expect(lines.contains { $0.hasSuffix("`headers.Mcp-Session-Id` is set by plugboard itself and cannot be configured") })
        #expect(lines.contains { $0.hasSuffix("`headers.Bad Name` is not a valid HTTP header name") })
        #expect(lines.contains { $0.hasSuffix("`headers.X-Split` must not contain line breaks or NUL (after expanding references)") })
        #expect(!lines.joined().contains("Injected"))
    }

    @Test("HTTPS_PROXY applies to https servers unless NO_PROXY covers the host; `proxy` overrides both")
    func proxySelection() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote("") + "[servers.local]\nurl = \"https://mcp.internal.example:8443/mcp\"\n"
                + "[servers.pinned]\nurl = \"http://plain.example/mcp\"\nproxy = \"proxy.corp:3128\"\n"
                + "[servers.direct]\nurl = \"https://docs.example.com/mcp\"\nproxy = \"\"\n"
        ])
        defer { directory.remove() }
        let config = try directory.load(environment: [
            "HTTPS_PROXY": "http://proxy.corp:8080", "https_proxy": "http://lower.corp:8080", "NO_PROXY": "localhost, .internal.example",
        ])
        let proxies = Dictionary(uniqueKeysWithValues: config.servers.map { ($0.name, $0.remote.proxy) })
        #expect(proxies["docs"]! == ProxyEndpoint(host: "lower.corp", port: 8080, source: "https_proxy"))
        #expect(proxies["local"]! == nil)
        #expect(proxies["pinned"]! == ProxyEndpoint(host: "proxy.corp", port: 3128, source: "`proxy`"))
        #expect(proxies["direct"]! == nil)
    }

    @Test("ca_file and tls_verify belong to https servers; an https proxy is refused")
    func tlsKeysOnPlainServers() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": remote("tls_verify = false\nproxy = \"https://proxy.corp\"\n", url: "http://plain.example/mcp")
        ])
        defer { directory.remove() }
        let lines = directory.errorLines()
        #expect(lines.contains("plugboard.toml:3:1: `tls_verify` applies only to https:// servers; [servers.docs] uses http://"))
        #expect(lines.contains { $0.hasSuffix("`proxy` names an https:// proxy; plugboard speaks to proxies in plain http (tunnelling https with CONNECT)") })
    }

    @Test("an HTTPS listener needs both PEM files, and the files need a listener")
    func tlsListenerKeys() throws {
        let directory = try TemporaryConfigDirectory([
            "plugboard.toml": minimalConfig() + "[http]\ntls_listen = \"127.0.0.1:8443\"\ntls_cert_file = \"cert.pem\"\n"
        ])
        defer { directory.remove() }
        #expect(directory.errorLines() == ["plugboard.toml:5:1: set both `tls_cert_file` and `tls_key_file`"])
    }
}

@Suite("NO_PROXY matching")
struct NoProxyTests {
    @Test("names match themselves and their subdomains, with or without a leading dot; ports must match when given", arguments: [
        ("example.com", "example.com", 443, true), ("example.com", "api.example.com", 443, true), (".example.com", "api.example.com", 443, true),
        ("example.com", "notexample.com", 443, false), ("*", "anything", 1, true), ("example.com:8443", "example.com", 443, false),
        ("example.com:8443", "example.com", 8443, true), ("127.0.0.1", "127.0.0.1", 80, true), ("[::1]", "::1", 80, true), ("", "x", 1, false),
    ])
    func matching(_ list: String, _ host: String, _ port: Int, _ excluded: Bool) {
        #expect(RemoteOptions.proxyExcluded(byNoProxy: list, host: host, port: port) == excluded)
    }
}
