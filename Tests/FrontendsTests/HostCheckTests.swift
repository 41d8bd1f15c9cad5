import Testing

@testable import Frontends

@Suite("the Host check that defends a loopback endpoint against DNS rebinding")
struct HostCheckTests {
    struct Case: Sendable {
        let host: String?
        let allowed: [String]
        let passes: Bool
        init(_ host: String?, _ allowed: [String], _ passes: Bool) {
            self.host = host
            self.allowed = allowed
            self.passes = passes
        }
        init(_ host: String?, _ passes: Bool) { self.init(host, [], passes) }
    }

    static let cases: [Case] = [
        Case("localhost:8080", true), Case("127.0.0.1:9", true), Case("[::1]:8080", true), Case("LOCALHOST", true),
        Case("evil.example:8080", false), Case(nil, false), Case("", false),
        Case("mcp.example.com:8443", ["mcp.example.com"], true), Case("mcp.example.com:8443", ["mcp.example.com:8443"], true),
        Case("mcp.example.com:9999", ["mcp.example.com:8443"], false), Case("other.example", ["mcp.example.com"], false), Case("anything", ["*"], true),
    ]

    @Test("loopback names pass on any port; other names need allowed_hosts", arguments: cases)
    func loopbackEndpoint(_ check: Case) {
        #expect(StreamableHTTPFrontend.hostAllowed(check.host, allowed: check.allowed, checked: true) == check.passes)
    }

    @Test("an endpoint reachable from other machines, without allowed_hosts, does not check")
    func publicEndpoint() {
        #expect(StreamableHTTPFrontend.hostAllowed("evil.example", allowed: [], checked: false))
    }
}
