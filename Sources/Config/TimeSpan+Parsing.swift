extension TimeSpan {
    /// Parses `"250ms"`, `"10s"`, `"1.5s"`, `"2m"` or `"1h"`; nil when the text is not such a duration.
    ///
    /// Negative durations are not accepted; fractions are rounded to the millisecond.
    public init?(parsing text: String) {
        let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) }) else { return nil }
        let number = text.dropLast(unit.suffix.count)
        // Double(_:) alone would also take "inf", "1e3" and "+5"; a duration is plain digits with an optional fraction.
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let value = Double(number)
        else { return nil }
        self.init(seconds: value * unit.milliseconds / 1000)
    }

    /// A span from a number of seconds; nil when negative, not finite, or too large to hold.
    public init?(seconds: Double) {
        let milliseconds = (seconds * 1000).rounded()
        guard milliseconds.isFinite, milliseconds >= 0, milliseconds < Double(Int64.max / 1_000_000) else { return nil }
        self.init(milliseconds: Int64(milliseconds))
    }
}
