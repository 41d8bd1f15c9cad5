import HTTP
import Testing

@Suite("Upstream URLs")
struct HTTPURLTests {
    @Test("URLs are split into scheme, host, port and path with query", arguments: [
        ("http://example.com", "http", "example.com", 80, "/"),
        ("HTTPS://Example.COM/MCP", "https", "example.com", 443, "/MCP"),
        ("http://127.0.0.1:8080/mcp?x=1#frag", "http", "127.0.0.1", 8080, "/mcp?x=1"),
        ("http://[::1]:3000/sse", "http", "::1", 3000, "/sse"),
        ("http://[2001:db8::1]/", "http", "2001:db8::1", 80, "/"),
        ("http://host:/x", "http", "host", 80, "/x"),
        ("http://host?q", "http", "host", 80, "/?q"),
    ] as [(String, String, String, Int, String)])
    func parsing(text: String, scheme: String, host: String, port: Int, pathAndQuery: String) throws {
        let url = try #require(HTTPURL(text))
        #expect(url.scheme == scheme)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.pathAndQuery == pathAndQuery)
    }

    @Test("unusable URLs are refused", arguments: [
        "", "example.com", "ftp://example.com/", "http://", "http:///path", "http://user:pw@host/", "http://host:0/",
        "http://host:65536/", "http://host:80a/", "http://exa mple.com/", "http://host/a b", "http://[::1/", "http://[zz::1]/",
        "http://hös.example/", " http://host/",
    ])
    func refused(text: String) {
        #expect(HTTPURL(text) == nil)
    }

    @Test("the Host header carries the port only when it is not the default, and brackets IPv6")
    func hostHeader() throws {
        #expect(HTTPURL("http://example.com:80/")?.hostHeader == "example.com")
        #expect(HTTPURL("https://example.com:8443/")?.hostHeader == "example.com:8443")
        #expect(HTTPURL("http://[::1]:8080/")?.hostHeader == "[::1]:8080")
        #expect(HTTPURL("http://[::1]/")?.hostHeader == "[::1]")
        #expect(HTTPURL("http://[::1]:8080/a?b")?.description == "http://[::1]:8080/a?b")
    }

    @Test("references resolve against the URL they were found at", arguments: [
        ("/messages?sessionId=abc", "http://host:8080/messages?sessionId=abc"),
        ("messages?id=1", "http://host:8080/sse/messages?id=1"),
        ("../up", "http://host:8080/up"),
        ("./same", "http://host:8080/sse/same"),
        ("?only=query", "http://host:8080/sse/events?only=query"),
        ("", "http://host:8080/sse/events?a=1"),
        ("http://other:9000/post", "http://other:9000/post"),
        ("//other/x", "http://other/x"),
        ("/a/./b/../c#frag", "http://host:8080/a/c"),
        ("/../../x", "http://host:8080/x"),
        ("  /padded \r\n", "http://host:8080/padded"),
    ])
    func resolving(reference: String, expected: String) throws {
        let base = try #require(HTTPURL("http://host:8080/sse/events?a=1"))
        #expect(base.resolving(reference)?.description == expected)
    }

    @Test("references to other schemes or with spaces resolve to nothing")
    func unresolvable() throws {
        let base = try #require(HTTPURL("http://host/sse"))
        #expect(base.resolving("javascript:alert(1)") == nil)
        #expect(base.resolving("mailto:a@b") == nil)
        #expect(base.resolving("/a b") == nil)
        #expect(base.resolving("http://user@evil/") == nil)
    }
}
