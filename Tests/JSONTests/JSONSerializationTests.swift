import JSON
import Testing

@Suite("JSON serialization")
struct JSONSerializationTests {
    @Test("serialization is compact and escapes only quotes, backslashes and control characters")
    func escapes() {
        let value: JSONValue = .string("\"\\/\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}é😀")
        #expect(value.serializedString == #""\"\\/\b\f\n\r\t\u0001\u001f"# + "\u{7F}é😀\"")
        let object: JSONValue = ["a": [1, 2.5, true, false, nil], "b": ["c": "d"], "": []]
        #expect(object.serializedString == #"{"a":[1,2.5,true,false,null],"b":{"c":"d"},"":[]}"#)
    }

    @Test("strings needing escapes at every position serialize like a naive escaper")
    func escapesAtEveryPosition() {
        for length in 0..<40 {
            for special in ["\"", "\\", "\n", "\u{1}", "é", "😀"] {
                for position in 0...length {
                    var scalars = String(repeating: "a", count: length)
                    scalars.insert(contentsOf: special, at: scalars.index(scalars.startIndex, offsetBy: position))
                    let value = JSONValue.string(scalars)
                    #expect(value.serializedString == naiveSerialize(scalars))
                }
            }
        }
    }

    @Test("serialize then parse gives back an equal value")
    func roundTripValue() throws {
        let value: JSONValue = [
            "jsonrpc": "2.0", "id": 7,
            "result": ["content": [["type": "text", "text": "line\n\t\"quoted\" é 中 😀 \u{0}"]]],
            "numbers": [0, -1, 1.5, .number(JSONNumber(text: "1e400")!), 9_223_372_036_854_775_807],
            "nested": [[[[]]], [:], ["k": nil]],
        ]
        #expect(try JSONParser.parse(value.serialized()) == value)
    }

    @Test("parse then serialize reproduces compact text byte for byte")
    func roundTripText() throws {
        let texts = [
            #"{"b":1,"a":[true,false,null,"x\"y\\z\n",-0.5e-7,{"":{}}],"c":"é😀/"}"#,
            #"[]"#, #"{}"#, #""""#, #"[[[[1]]]]"#, #"{"z":1,"y":2,"x":3}"#,
        ]
        for text in texts {
            #expect(try JSONParser.parse(text).serializedString == text)
        }
    }

    @Test("serialize(into:) appends to existing bytes")
    func appends() {
        var out = Array("x=".utf8)
        JSONValue.array([1, "a"]).serialize(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"x=[1,"a"]"#)
    }

    private func naiveSerialize(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\u{1}": out += "\\u0001"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

@Suite("JSONObject and JSONValue")
struct JSONObjectTests {
    @Test("members keep insertion order; setting nil removes; setting an existing name replaces in place")
    func ordering() {
        var object: JSONObject = ["b": 1, "a": 2]
        object["c"] = 3
        object["b"] = 10
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["b"] == 10)
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(object.removeValue(forKey: "b") == 10)
        #expect(object.removeValue(forKey: "zz") == nil)
        #expect(object.count == 1)
        #expect(!object.isEmpty)
        #expect(object.map(\.key) == ["c"])
    }

    @Test("large objects look members up through an index that stays consistent with edits")
    func largeObjects() {
        var object = JSONObject()
        for i in 0..<200 { object["k\(i)"] = .number(JSONNumber(i)) }
        #expect(object.count == 200)
        #expect(object["k150"] == 150)
        for i in stride(from: 0, to: 200, by: 3) { object["k\(i)"] = nil }
        #expect(object["k3"] == nil)
        #expect(object["k4"] == 4)
        #expect(object["k199"] == 199)
        object["k4"] = "four"
        #expect(object["k4"] == "four")
        #expect(object.keys.first == "k1")
        for i in 0..<200 { object["k\(i)"] = nil }
        #expect(object.isEmpty)
        object["again"] = true
        #expect(object["again"] == true)
    }

    @Test("objects are equal and hash alike whatever their member order")
    func equality() {
        let a: JSONObject = ["x": 1, "y": [1, 2]]
        let b: JSONObject = ["y": [1, 2], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1])
        #expect(a != ["x": 1, "y": [2, 1]])
    }

    @Test("value accessors and subscripts return nil for the wrong kind")
    func accessors() {
        let value: JSONValue = ["s": "text", "i": 42, "d": 2.5, "b": true, "a": [1, 2], "o": ["k": nil]]
        #expect(value["s"]?.stringValue == "text")
        #expect(value["i"]?.int64Value == 42)
        #expect(value["i"]?.doubleValue == 42)
        #expect(value["d"]?.doubleValue == 2.5)
        #expect(value["d"]?.int64Value == nil)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?[1] == 2)
        #expect(value["a"]?[2] == nil)
        #expect(value["a"]?[-1] == nil)
        #expect(value["o"]?["k"]?.isNull == true)
        #expect(value["o"]?.objectValue?.count == 1)
        #expect(value["s"]?["k"] == nil)
        #expect(value[0] == nil)
        #expect(value["missing"] == nil)
        #expect(value["s"]?.arrayValue == nil)
    }
}
