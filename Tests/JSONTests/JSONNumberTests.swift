import JSON
import Testing

@Suite("JSONNumber")
struct JSONNumberTests {
    @Test("number literals keep their exact text through parse and serialize", arguments: [
        "0", "-0", "0.1", "1e400", "-1E-400", "1.0", "1e2", "12345678901234567890123",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "2.5E+10", "-0.0",
    ])
    func roundTrip(_ text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(value.serializedString == text)
        #expect(value.numberValue?.text == text)
        #expect(JSONNumber(text: text)?.text == text)
    }

    @Test("only integer literals that fit in Int64 have an int64Value")
    func int64Value() {
        #expect(JSONNumber(text: "42")?.int64Value == 42)
        #expect(JSONNumber(text: "-0")?.int64Value == 0)
        #expect(JSONNumber(text: "9223372036854775807")?.int64Value == .max)
        #expect(JSONNumber(text: "-9223372036854775808")?.int64Value == .min)
        #expect(JSONNumber(text: "9223372036854775808")?.int64Value == nil)
        #expect(JSONNumber(text: "1e2")?.int64Value == nil)
        #expect(JSONNumber(text: "100.0")?.int64Value == nil)
    }

    @Test("doubleValue reads every literal, overflowing to infinity")
    func doubleValue() {
        #expect(JSONNumber(text: "0.1")?.doubleValue == 0.1)
        #expect(JSONNumber(text: "1e400")?.doubleValue == .infinity)
        #expect(JSONNumber(text: "-1e400")?.doubleValue == -.infinity)
        #expect(JSONNumber(text: "-0")?.doubleValue.sign == .minus)
        #expect(JSONNumber(text: "12345678901234567890123")?.doubleValue == 12345678901234567890123.0)
    }

    @Test("doubles are written as the shortest text that reads back as the same double")
    func doubles() {
        for value in [0.1, 1e-7, 1e21, 5.0, -0.0, 123.456, .pi, .leastNonzeroMagnitude, .greatestFiniteMagnitude] {
            let number = JSONNumber(value)
            #expect(JSONNumber(text: number.text) != nil, "\(number.text)")
            #expect(Double(number.text) == value)
        }
        #expect(JSONNumber(0.1).text == "0.1")
    }

    @Test("text that breaks the number grammar is rejected", arguments: [
        "", "-", "+1", "01", "-01", "1.", ".1", "1e", "1e+", " 1", "1 ", "0x10", "NaN", "Infinity", "1_000", "١",
    ])
    func invalidText(_ text: String) {
        #expect(JSONNumber(text: text) == nil)
    }

    @Test("equality compares literal text, not numeric value")
    func equality() {
        #expect(JSONNumber(text: "1") == JSONNumber(1))
        #expect(JSONNumber(Int64(7)) == JSONNumber(7))
        #expect(JSONNumber(text: "1.0") != JSONNumber(1))
        #expect(JSONNumber(text: "-0") != JSONNumber(0))
        #expect(Set([JSONNumber(1), JSONNumber(text: "1")!]).count == 1)
    }
}
