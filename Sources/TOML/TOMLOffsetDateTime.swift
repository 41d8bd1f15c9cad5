/// A date and time at a UTC offset (`1979-05-27T07:32:00Z`, `1979-05-27 00:32:00-07:00`).
public struct TOMLOffsetDateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: TOMLLocalDate
    public var time: TOMLLocalTime
    /// Minutes east of UTC; `nil` means the offset was written as `Z`.
    public var offsetMinutes: Int?

    public init(date: TOMLLocalDate, time: TOMLLocalTime, offsetMinutes: Int?) {
        self.date = date
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    /// RFC 3339 form with upper-case `T` and `Z`.
    public var description: String {
        guard let minutes = offsetMinutes else { return "\(date)T\(time)Z" }
        let sign = minutes < 0 ? "-" : "+"
        return "\(date)T\(time)\(sign)\(pad(abs(minutes) / 60, 2)):\(pad(abs(minutes) % 60, 2))"
    }
}
