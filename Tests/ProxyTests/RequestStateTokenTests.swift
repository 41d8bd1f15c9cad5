import Cryptography
import JSON
import Testing

@testable import Proxy

@Suite("plugboard's requestState is signed, bound to its request and expires")
struct RequestStateTokenTests {
    let tokens = RequestStateToken(key: Array(repeating: 7, count: 32))
    let params: JSONValue = ["name": "ask", "arguments": ["question": "why"], "_meta": ["progressToken": 1]]
    var binding: [UInt8] { RequestStateToken.binding(method: "tools/call", params: params) }

    @Test("a token verifies for the request it was minted for, before it expires")
    func roundTrip() {
        let token = tokens.mint(nonce: "n-1", binding: binding, expiresAt: 1_000)
        #expect(RequestStateToken.isPlugboards(token))
        #expect(tokens.verify(token, binding: binding, now: 999) == .success("n-1"))
    }

    @Test("the retry's inputResponses, requestState and _meta do not change the binding; key order does not either")
    func bindingIgnoresRetryFields() {
        let retry: JSONValue = [
            "arguments": ["question": "why"], "name": "ask", "inputResponses": ["input-1": ["action": "accept"]],
            "requestState": "pb1.x.y", "_meta": ["io.modelcontextprotocol/protocolVersion": "2026-07-28"],
        ]
        #expect(RequestStateToken.binding(method: "tools/call", params: retry) == binding)
    }

    @Test("a token presented on a different request is refused")
    func otherRequest() {
        let token = tokens.mint(nonce: "n-1", binding: binding, expiresAt: 1_000)
        let other = RequestStateToken.binding(method: "tools/call", params: ["name": "ask", "arguments": ["question": "how"]])
        #expect(tokens.verify(token, binding: other, now: 0) == .failure(.otherRequest))
        let otherMethod = RequestStateToken.binding(method: "prompts/get", params: params)
        #expect(tokens.verify(token, binding: otherMethod, now: 0) == .failure(.otherRequest))
    }

    @Test("an expired token is refused as expired")
    func expired() {
        let token = tokens.mint(nonce: "n-1", binding: binding, expiresAt: 1_000)
        #expect(tokens.verify(token, binding: binding, now: 1_000) == .failure(.expired))
    }

    @Test("a token with any byte of its payload or signature changed fails its integrity check")
    func tampered() {
        let token = tokens.mint(nonce: "n-1", binding: binding, expiresAt: 1_000)
        let parts = token.dropFirst(RequestStateToken.prefix.count).split(separator: ".")
        var payload = Base64.decoded(parts[0])!
        let text = String(decoding: payload, as: UTF8.self).replacing("1000", with: "9999")
        payload = Array(text.utf8)
        let forgedExpiry = RequestStateToken.prefix + Base64.urlEncoded(payload) + "." + parts[1]
        #expect(tokens.verify(forgedExpiry, binding: binding, now: 0) == .failure(.forged))
        var mac = Base64.decoded(parts[1])!
        mac[0] ^= 1
        let forgedMAC = RequestStateToken.prefix + parts[0] + "." + Base64.urlEncoded(mac)
        #expect(tokens.verify(forgedMAC, binding: binding, now: 0) == .failure(.forged))
    }

    @Test("a token from another plugboard instance does not verify")
    func otherInstance() {
        let token = RequestStateToken().mint(nonce: "n-1", binding: binding, expiresAt: 1_000)
        #expect(tokens.verify(token, binding: binding, now: 0) == .failure(.forged))
    }

    @Test("strings that are not tokens are malformed, not crashes")
    func malformed() {
        for text in ["pb1.", "pb1.a", "pb1.a.b.c", "pb1.!!!.???", "server-state"] {
            #expect(tokens.verify(text, binding: binding, now: 0) == .failure(.malformed))
        }
    }
}

@Suite("Base64 for tokens and mirrored headers")
struct Base64Tests {
    @Test("encodes and decodes RFC 4648 test vectors in both alphabets")
    func vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encoded(Array(plain.utf8)) == encoded)
            #expect(Base64.decoded(encoded) == Array(plain.utf8))
            #expect(Base64.urlEncoded(Array(plain.utf8)) == encoded.replacing("=", with: ""))
        }
        #expect(Base64.decoded("SGVsbG8sIOS4lueVjA==").map { String(decoding: $0, as: UTF8.self) } == "Hello, 世界")
        #expect(Base64.decoded("a") == nil)
        #expect(Base64.decoded("ab=c") == nil)
    }

    @Test("HMAC-SHA-256 matches RFC 4231 test case 2")
    func hmacVector() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        let hex = mac.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
