/// A time of day without a date or offset (`07:32:00.999`).
public struct TOMLLocalTime: Sendable, Hashable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// The fractional-second digits exactly as written (`"999"` for `.999`), empty when there were none.
    public var fractionDigits: String

    public init(hour: Int, minute: Int, second: Int, fractionDigits: String = "") {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.fractionDigits = fractionDigits
    }

    /// The fraction in nanoseconds; digits past the ninth are truncated, as TOML allows.
    public var nanosecond: Int {
        let nine = String(fractionDigits.prefix(9))
        return (Int(nine) ?? 0) * Int(pow10(9 - nine.count))
    }

    /// `HH:MM:SS` plus `.fraction` when one was written.
    public var description: String {
        let base = "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        return fractionDigits.isEmpty ? base : base + "." + fractionDigits
    }
}

private func pow10(_ exponent: Int) -> Int {
    (0..<exponent).reduce(1) { result, _ in result * 10 }
}
