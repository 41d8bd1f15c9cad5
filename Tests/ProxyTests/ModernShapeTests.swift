import JSON
import JSONRPC
import Testing

@testable import Proxy

@Suite("what a modern client is owed on results a legacy server wrote")
struct ModernShapeTests {
    func shaped(_ text: String, method: String = "tools/call") -> JSONValue? {
        let bytes = Array(text.utf8)
        let envelope = try! JSONRPCEnvelope.scan(bytes)
        let out = ResultShape.modernResponse(bytes, envelope: envelope, method: method, idText: Array(#""client-7""#.utf8))
        let parsed = try? JSONParser.parse(out)
        #expect(parsed?["id"] == "client-7")
        return parsed
    }

    @Test("resultType is spliced into a result, empty or not, wherever the id sits")
    func resultType() {
        #expect(shaped(#"{"jsonrpc":"2.0","id":3,"result":{"content":[]}}"#)?["result"]?["resultType"] == "complete")
        #expect(shaped(#"{"jsonrpc":"2.0","id":3,"result":{ }}"#)?["result"]?["resultType"] == "complete")
        #expect(shaped(#"{"result":{"a":1},"jsonrpc":"2.0","id":"x"}"#)?["result"]?["a"] == 1)
    }

    @Test("cacheable results get ttlMs 0 and a private cacheScope")
    func cacheHints() {
        let result = shaped(#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#, method: "tools/list")?["result"]
        #expect(result?["ttlMs"] == 0)
        #expect(result?["cacheScope"] == "private")
        #expect(shaped(#"{"jsonrpc":"2.0","id":1,"result":{}}"#)?["result"]?["ttlMs"] == nil)
    }

    @Test("a legacy resource-not-found error becomes invalid params")
    func resourceNotFound() {
        let error = shaped(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"no"}}"#, method: "resources/read")?["error"]
        #expect(error?["code"] == -32602)
        #expect(shaped(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"-32002"}}"#)?["error"]?["code"] == -32603)
    }

    @Test("a request's modern fields are read, and their faults named")
    func readingMeta() {
        let good: JSONValue = [
            "_meta": [
                "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": ["sampling": [:]],
            ]
        ]
        guard case .success(let meta)? = RequestMeta.read(params: good) else { Issue.record("valid meta refused"); return }
        #expect(meta.clientCapabilities["sampling"] != nil)
        #expect(RequestMeta.read(params: ["name": "x"]) == nil)
        guard case .failure(.unsupportedVersion("2099-01-01"))? = RequestMeta.read(params: ["_meta": ["io.modelcontextprotocol/protocolVersion": "2099-01-01"]]) else {
            Issue.record("unknown version not refused"); return
        }
        guard case .failure(.malformed)? = RequestMeta.read(params: ["_meta": ["io.modelcontextprotocol/protocolVersion": "2026-07-28"]]) else {
            Issue.record("missing capabilities not refused"); return
        }
    }

    @Test("a discover probe's answer decides the era as a dual-era client would")
    func discoverVerdict() {
        func verdict(_ text: String) -> DiscoverVerdict {
            let bytes = Array(text.utf8)
            return DiscoverVerdict(.response(bytes, try! JSONRPCEnvelope.scan(bytes)))
        }
        guard case .modern = verdict(#"{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"capabilities":{}}}"#) else {
            Issue.record("a discover result is modern"); return
        }
        guard case .legacy = verdict(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#) else {
            Issue.record("method not found is legacy"); return
        }
        guard case .legacy = verdict(#"{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2025-11-25"]}}"#) else {
            Issue.record("a discover listing only legacy versions is legacy"); return
        }
        guard case .modernWithoutOurVersion(["2027-01-01"]) = verdict(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"no","data":{"supported":["2027-01-01"]}}}"#) else {
            Issue.record("-32022 naming only other versions"); return
        }
        guard case .legacy = DiscoverVerdict(.failed(.timedOut(server: "s", method: "server/discover", seconds: 5))) else {
            Issue.record("silence is legacy"); return
        }
    }
}
