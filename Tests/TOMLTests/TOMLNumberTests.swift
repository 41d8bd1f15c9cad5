import TOML
import Testing

@Suite("integers and floats follow TOML's number rules")
struct TOMLNumberTests {
    @Test("integers parse in every base with underscores between digits")
    func integerBases() throws {
        let table = try parse("d = -1_000\nh = 0xDEAD_beef\no = 0o755\nb = 0b1101\np = +7\nmin = -9223372036854775808")
        #expect(table["d"] == .integer(-1000))
        #expect(table["h"] == .integer(0xDEAD_BEEF))
        #expect(table["o"] == .integer(0o755))
        #expect(table["b"] == .integer(13))
        #expect(table["p"] == .integer(7))
        #expect(table["min"] == .integer(.min))
    }

    @Test("leading zeros, stray underscores, signed hex and overflow are rejected", arguments: [
        ("n = 012", "leading zeros"),
        ("n = 1__2", "invalid value"),
        ("n = _1", "expected a value"),
        ("n = 1_", "invalid value"),
        ("n = +0x10", "sign is not allowed"),
        ("n = 9223372036854775808", "does not fit in 64 bits"),
        ("n = 0x", "invalid value"),
    ])
    func badIntegers(input: String, expected: String) {
        let message = rejection(input)?.message ?? ""
        #expect(message.contains(expected), "\(input): \(message)")
    }

    @Test("floats parse with fractions, exponents, underscores, inf and nan")
    func floats() throws {
        let table = try parse("a = 3.14\nb = -1e-3\nc = 6.626_070E+34\nd = inf\ne = -inf\nf = nan\ng = -0.0")
        #expect(table["a"] == .float(3.14))
        #expect(table["b"] == .float(-0.001))
        #expect(table["c"] == .float(6.626070e34))
        #expect(table["d"] == .float(.infinity))
        #expect(table["e"] == .float(-.infinity))
        #expect(table["f"]?.floatValue?.isNaN == true)
        #expect(table["g"]?.floatValue == 0)
    }

    @Test("floats need digits on both sides of the dot", arguments: ["x = .5", "x = 5.", "x = 1.e3", "x = 03.14", "x = 1e_3"])
    func badFloats(input: String) {
        #expect(rejection(input) != nil)
    }

    @Test("booleans are lower-case true and false only")
    func booleans() throws {
        #expect(try parse("t = true\nf = false")["f"] == .boolean(false))
        #expect(rejection("t = True") != nil)
        #expect(rejection("t = truely") != nil)
    }
}
