import HTTP
import Testing

/// SplitMix64: a small seeded generator, so every run tries the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

@Suite("Hostile input")
struct HostileInputTests {
    /// Pieces of real requests, so random inputs get deep into the parser, not just refused
    /// at the first byte.
    static let fragments: [String] = [
        "GET ", "POST ", "OPTIONS ", "CONNECT ", "/", "/mcp?x=1", "*", "http://h/p", "h:443", " HTTP/1.1", " HTTP/1.0", " HTTP/2.0",
        "\r\n", "\r\n\r\n", "\n", "\r", " ", "\t", ":", "Host: h", "Content-Length: ", "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip", "Expect: 100-continue", "Connection: close", "0", "5", "a", "ff", "FFFFFFFFFFFFFFFFFFFF", ";ext=1",
        "hello", "\u{0}", "\u{7F}", "é", "99999999999999999999", "X-A: b",
    ]

    /// Mostly plausible requests with a few bytes changed; sometimes fragments strung together.
    static func randomInput(using generator: inout SeededGenerator) -> [UInt8] {
        guard Bool.random(using: &generator) else { return randomFragments(using: &generator) }
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            bytes += plausibleRequest(using: &generator)
        }
        for _ in 0..<Int.random(in: 0...3, using: &generator) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.insert(contentsOf: fragments.randomElement(using: &generator)!.utf8, at: position)
            default: bytes.remove(at: position)
            }
        }
        return bytes
    }

    static func plausibleRequest(using generator: inout SeededGenerator) -> [UInt8] {
        let body = String(repeating: "b", count: Int.random(in: 0...20, using: &generator))
        var text = ["GET", "POST", "DELETE"].randomElement(using: &generator)! + " /mcp?s=1 HTTP/1.1\r\nHost: h\r\n"
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            text += ["Accept: */*\r\n", "X-Long: \(body)\r\n", "Connection: keep-alive\r\n"].randomElement(using: &generator)!
        }
        switch Int.random(in: 0..<3, using: &generator) {
        case 0:
            text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        case 1:
            let chunk = String(body.utf8.count, radix: 16)
            text += "Transfer-Encoding: chunked\r\n\r\n" + (body.isEmpty ? "" : "\(chunk);e=1\r\n\(body)\r\n") + "0\r\nT: 1\r\n\r\n"
        default:
            text += "\r\n"
        }
        return Array(text.utf8)
    }

    static func randomFragments(using generator: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...40, using: &generator) {
            if Int.random(in: 0..<4, using: &generator) == 0 {
                bytes += (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes += fragments.randomElement(using: &generator)!.utf8
            }
        }
        return bytes
    }

    @Test("random bytes never crash the request parser, and give the same outcome however they are split")
    func requestParser() {
        var generator = SeededGenerator(seed: 0x5EED)
        let limits = HTTPLimits(maxHeaderBytes: 256, maxHeaderCount: 8, maxTargetBytes: 64, maxBodyBytes: 64)
        var requests = 0
        var errors = 0
        for _ in 0..<3000 {
            let input = Self.randomInput(using: &generator)
            let whole = RequestParsing.outcome(input, pieceSize: input.count, limits: limits)
            let split = RequestParsing.outcome(input, pieceSize: Int.random(in: 1...max(1, input.count), using: &generator), limits: limits)
            #expect(whole.0 == split.0, "\(input)")
            #expect(whole.1 == split.1, "\(input)")
            #expect(whole.0.allSatisfy { $0.body.count <= limits.maxBodyBytes })
            requests += whole.0.count
            errors += whole.1 == nil ? 0 : 1
        }
        #expect(requests > 0)
        #expect(errors > 0)
    }

    @Test("random bytes never crash the response and SSE parsers")
    func responseAndSSEParsers() {
        var generator = SeededGenerator(seed: 0xF00D)
        for _ in 0..<2000 {
            let input = Self.randomInput(using: &generator)
            var responses = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 256, maxHeaderCount: 8))
            for method in ["GET", "HEAD", "POST"] { responses.expectResponse(toMethod: method) }
            responses.append(Array("HTTP/1.1 200 OK\r\n".utf8) + input)
            _ = try? responses.nextEvents()
            _ = try? responses.connectionClosed()

            var events = SSEParser(maxEventBytes: 32)
            for piece in input.split(separator: 0x0A, omittingEmptySubsequences: false) {
                _ = try? events.append(Array(piece) + [0x0A])
            }
        }
    }
}
