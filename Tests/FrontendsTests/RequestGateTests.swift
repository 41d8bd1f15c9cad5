import HTTP
import Testing

@testable import Frontends

@Suite("the Origin and bearer-token gate in front of the MCP endpoint")
struct RequestGateTests {
    func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }

    @Test("requests without Origin pass; loopback origins on any port pass; others are forbidden")
    func origins() {
        let gate = RequestGate(allowedOrigins: ["https://app.example.com"], token: nil)
        #expect(gate.check(headers([])) == nil)
        for origin in ["http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443", "https://app.example.com"] {
            #expect(gate.check(headers([("Origin", origin)])) == nil, "\(origin)")
        }
        for origin in ["http://evil.example", "http://localhost.evil.example", "null", "file://", "https://app.example.com.evil.io"] {
            #expect(gate.check(headers([("Origin", origin)])) == .forbiddenOrigin(origin), "\(origin)")
        }
    }

    @Test("a configured token must come as a Bearer credential, exactly")
    func token() {
        let gate = RequestGate(allowedOrigins: [], token: Array("correct horse".utf8))
        #expect(gate.check(headers([])) == .missingToken)
        #expect(gate.check(headers([("Authorization", "Basic Y29ycmVjdCBob3JzZQ==")])) == .missingToken)
        #expect(gate.check(headers([("Authorization", "Bearer correct horse")])) == nil)
        #expect(gate.check(headers([("Authorization", "bearer correct horse")])) == nil)
        #expect(gate.check(headers([("Authorization", "Bearer correct hors")])) == .wrongToken)
        #expect(gate.check(headers([("Authorization", "Bearer correct horse!")])) == .wrongToken)
        #expect(gate.check(headers([("Authorization", "Bearer ")])) == .missingToken)
    }

    @Test("the comparison gives equal answers for equal bytes only, whatever the lengths")
    func constantTimeEquality() {
        let expected = Array(repeating: UInt8(ascii: "a"), count: 32)
        #expect(RequestGate.constantTimeEqual(expected, expected))
        #expect(!RequestGate.constantTimeEqual(expected + expected[...7], expected))
        #expect(!RequestGate.constantTimeEqual(Array(expected.prefix(31)), expected))
        #expect(!RequestGate.constantTimeEqual(Array(repeating: 0, count: 288), expected))
        #expect(!RequestGate.constantTimeEqual([], expected))
    }
}

@Suite("Prometheus text exposition")
struct PrometheusTextTests {
    @Test("families are declared once; label values are escaped; histograms end with +Inf, sum and count")
    func format() {
        var text = PrometheusText()
        text.declare("x_total", .counter, help: "Things\ncounted.")
        text.declare("x_total", .counter, help: "ignored")
        text.sample("x_total", labels: [("name", "a\"b\\c\nd")], 3)
        text.histogram("lat_seconds", labels: [("m", "get")], buckets: [(0.5, 1), (1, 2)], sum: 1.25, count: 3)
        #expect(text.text == """
            # HELP x_total Things\\ncounted.
            # TYPE x_total counter
            x_total{name="a\\"b\\\\c\\nd"} 3
            lat_seconds_bucket{m="get",le="0.5"} 1
            lat_seconds_bucket{m="get",le="1"} 2
            lat_seconds_bucket{m="get",le="+Inf"} 3
            lat_seconds_sum{m="get"} 1.25
            lat_seconds_count{m="get"} 3

            """)
    }
}
