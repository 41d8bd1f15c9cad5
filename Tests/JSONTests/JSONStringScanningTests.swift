import JSON
import Testing

/// Strings are scanned eight bytes at a time; these walk every special byte across every
/// lane and word boundary.
@Suite("JSON string scanning")
struct JSONStringScanningTests {
    @Test("the first offending byte is found at every position within long strings")
    func offendingByteAtEveryPosition() {
        let offenders: [([UInt8], String)] = [
            ([0x01], "unescaped control character"), ([0x0A], "unescaped control character"),
            ([0xFF], "invalid UTF-8"), ([0xC3], "invalid UTF-8"), ([0xED, 0xA0, 0x80], "invalid UTF-8"),
            (Array(#"\x"#.utf8), "invalid escape"), (Array(#"\uDC00"#.utf8), "lone UTF-16 surrogate"),
        ]
        for length in 0..<24 {
            for position in 0...length {
                for (offender, message) in offenders {
                    var input: [UInt8] = [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: length)
                    input.insert(contentsOf: offender, at: 1 + position)
                    input += Array("\" ".utf8)
                    do {
                        _ = try JSONParser.parse(input)
                        Issue.record("accepted \(input)")
                    } catch {
                        if error.byteOffset != 1 + position || !error.description.contains(message) {
                            Issue.record("\(error) at \(error.byteOffset), expected \(message) at \(1 + position)")
                        }
                    }
                }
            }
        }
    }

    @Test("escapes and multi-byte characters decode correctly at every position")
    func decodeAtEveryPosition() throws {
        let specials: [(raw: String, decoded: String)] = [
            (#"\""#, "\""), (#"\\"#, "\\"), (#"\n"#, "\n"), (#"\u00e9"#, "é"), (#"\uD83D\uDE00"#, "😀"),
            ("é", "é"), ("中", "中"), ("😀", "😀"), (#"\/"#, "/"),
        ]
        for length in 0..<20 {
            for position in 0...length {
                for special in specials {
                    let padding = String(repeating: "x", count: length)
                    let index = padding.index(padding.startIndex, offsetBy: position)
                    let raw = padding[..<index] + special.raw + padding[index...]
                    let decoded = padding[..<index] + special.decoded + padding[index...]
                    let value = try JSONParser.parse("\"\(raw)\"")
                    #expect(value == .string(String(decoded)))
                    #expect(try JSONParser.parse(value.serialized()) == value)
                }
            }
        }
    }

    @Test("a 50 KB string with escapes and non-ASCII survives serialize and parse")
    func largeString() throws {
        let pieces = ["plain ascii text ", "\"quoted\" ", "back\\slash ", "new\nline\t", "é中😀 ", "\u{1}\u{1F}"]
        var text = ""
        var i = 0
        while text.utf8.count < 50_000 {
            text += pieces[i % pieces.count]
            i += 1
        }
        let value: JSONValue = ["jsonrpc": "2.0", "id": 7, "result": ["content": [["type": "text", "text": .string(text)]]]]
        let bytes = value.serialized()
        #expect(try JSONParser.parse(bytes) == value)
        #expect(try JSONParser.parse(bytes)["result"]?["content"]?[0]?["text"]?.stringValue == text)
    }
}
