import JSON
import JSONRPC
import Testing

/// A small seeded generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes random JSON-RPC-shaped text with varied whitespace, escapes and member order.
struct MessageGenerator {
    var rng: SplitMix64

    mutating func pick<T>(_ options: [T]) -> T { options.randomElement(using: &rng)! }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    mutating func whitespace() -> String { pick(["", "", "", "", " ", "\n", "\t ", "\r\n  "]) }

    mutating func string() -> String {
        var text = "\""
        for _ in 0..<Int.random(in: 0..<6, using: &rng) {
            text += pick(["a", "tools/call", "id", "é", "😀", "/", #"\""#, #"\\"#, #"\n"#, #"\/"#, #"\u00e9"#,
                          #"\uD83D\uDE00"#, #"\u0000"#, "x y", "中"])
        }
        return text + "\""
    }

    mutating func number() -> String {
        pick(["0", "-0", "1", "-17", "3.25", "1e5", "-2.5E-3", "12345678901234567890", "9223372036854775807", "0.0"])
    }

    mutating func value(depth: Int) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 8), using: &rng) {
        case 0: return string()
        case 1: return number()
        case 2: return pick(["true", "false", "null"])
        case 3, 4: return pick([string(), number()])
        case 5, 6:
            var members: [(String, String)] = []
            for i in 0..<Int.random(in: 0..<4, using: &rng) {
                members.append((chance(80) ? "\"k\(i)\"" : string(), value(depth: depth + 1)))
            }
            return object(members)
        default:
            let elements = (0..<Int.random(in: 0..<4, using: &rng)).map { _ in value(depth: depth + 1) }
            return "[" + whitespace() + elements.map { $0 + whitespace() }.joined(separator: "," + whitespace()) + "]"
        }
    }

    mutating func object(_ members: [(String, String)]) -> String {
        let parts = members.map { name, value in whitespace() + name + whitespace() + ":" + whitespace() + value + whitespace() }
        return "{" + whitespace() + parts.joined(separator: ",") + "}"
    }

    mutating func message() -> String {
        var members: [(String, String)] = []
        if chance(95) { members.append(("\"jsonrpc\"", chance(95) ? "\"2.0\"" : pick(["\"1.0\"", "2.0", #""2\u002e0""#]))) }
        let id = pick(["1", "-42", "0", #""abc""#, #""a\"b""#, "null", "1.5", "12345678901234567890", "true", "{}"])
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            members.append(("\"id\"", id))
            members.append(("\"method\"", chance(90) ? pick([#""tools/call""#, #""ping""#, string()]) : "7"))
            if chance(70) { members.append(("\"params\"", chance(90) ? object([("\"name\"", string())]) : value(depth: 2))) }
        case 1:
            members.append(("\"method\"", pick([#""notifications/progress""#, string()])))
            if chance(50) { members.append(("\"params\"", value(depth: 1))) }
        case 2:
            members.append(("\"id\"", id))
            members.append(("\"result\"", value(depth: 1)))
        case 3:
            members.append(("\"id\"", id))
            members.append(("\"error\"", chance(90) ? object([("\"code\"", "-32600"), ("\"message\"", string())]) : value(depth: 1)))
        default:
            for _ in 0..<Int.random(in: 0..<4, using: &rng) {
                members.append((pick(["\"id\"", "\"method\"", "\"params\"", "\"result\"", "\"error\"", "\"x\""]), value(depth: 1)))
            }
        }
        if chance(20) { members.append((string(), value(depth: 1))) }
        members.shuffle(using: &rng)
        if chance(3) { return "[" + object(members) + "]" }
        return whitespace() + object(members) + whitespace()
    }

    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let interesting: [UInt8] = Array(#"{}[],:"\ 0123456789eE.+-tfnulx"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !bytes.isEmpty else { return pick([[], [0x7B], [0x20]]) }
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes.remove(at: i)
            case 1: bytes.insert(pick(interesting), at: i)
            case 2: bytes[i] = pick(interesting)
            case 3: bytes.removeSubrange(i...)
            case 4: bytes.insert(contentsOf: Array(pick([#","id":1"#, #""id":2,"#, #","method":"m""#, "\\u", "\\uD800"]).utf8), at: i)
            default: bytes.swapAt(i, Int.random(in: 0..<bytes.count, using: &rng))
            }
        }
        return bytes
    }
}

@Suite("JSONRPCEnvelope agrees with JSONParser")
struct JSONRPCDifferentialTests {
    @Test("scan accepts exactly what JSONParser accepts, with the same errors, on random and mutated messages")
    func differential() throws {
        var generator = MessageGenerator(rng: SplitMix64(state: 0x5EED))
        var counts = (parseErrors: 0, invalid: 0, accepted: 0)
        for round in 0..<6_000 {
            let valid = Array(generator.message().utf8)
            for bytes in [valid, generator.mutate(valid), generator.mutate(valid)] {
                let depth = round % 10 == 0 ? 2 : 512
                check(bytes, options: .init(maxDepth: depth), counts: &counts)
            }
        }
        #expect(counts.parseErrors > 3_000)
        #expect(counts.invalid > 1_000)
        #expect(counts.accepted > 2_000)
    }

    private func check(_ bytes: [UInt8], options: JSONParser.Options, counts: inout (parseErrors: Int, invalid: Int, accepted: Int)) {
        let parsed = Result { () throws(JSONError) in try JSONParser.parse(bytes, options: options) }
        let scanned = Result { () throws(JSONRPCScanError) in try JSONRPCEnvelope.scan(bytes, options: options) }
        let text = String(decoding: bytes, as: UTF8.self).debugDescription
        switch (parsed, scanned) {
        case (.failure(let parseError), .failure(.parseError(let scanError))):
            counts.parseErrors += 1
            if parseError != scanError { Issue.record("different errors for \(text): \(parseError) vs \(scanError)") }
        case (.failure(let parseError), _):
            Issue.record("parser rejected (\(parseError)) but scan did not: \(scanned) for \(text)")
        case (.success, .failure(.parseError(let error))):
            Issue.record("parser accepted but scan failed with \(error) for \(text)")
        case (.success(let value), .failure(.invalidRequest(_, let id))):
            counts.invalid += 1
            if let id, !same(id, value["id"]) { Issue.record("wrong id \(id) for \(text)") }
        case (.success(let value), .success(let envelope)):
            counts.accepted += 1
            if !consistent(envelope, value, bytes) { Issue.record("envelope \(envelope) disagrees with \(value) for \(text)") }
        }
    }

    /// Ids compare by integer value, so `-0` matches `.number(0)`.
    private func same(_ id: JSONRPCID, _ value: JSONValue?) -> Bool {
        switch id {
        case .number(let number): return value?.int64Value == number
        case .string(let string): return value?.stringValue == string
        case .largeInteger(let digits): return value?.numberValue?.text == digits
        }
    }

    private func consistent(_ envelope: JSONRPCEnvelope, _ value: JSONValue, _ bytes: [UInt8]) -> Bool {
        func member(_ range: Range<Int>?) -> JSONValue? {
            range.flatMap { try? JSONParser.parse(bytes[$0]) }
        }
        return envelope.method == value["method"]?.stringValue
            && member(envelope.idRange) == value["id"]
            && (envelope.id.map { same($0, value["id"]) } ?? (envelope.hasNullID == (value["id"] == .null)))
            && member(envelope.paramsRange) == value["params"]
            && member(envelope.resultRange) == value["result"]
            && member(envelope.errorRange) == value["error"]
            && value["jsonrpc"] == "2.0"
    }
}
