/// A date and time without an offset (`1979-05-27T07:32:00`).
public struct TOMLLocalDateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: TOMLLocalDate
    public var time: TOMLLocalTime

    public init(date: TOMLLocalDate, time: TOMLLocalTime) {
        self.date = date
        self.time = time
    }

    /// RFC 3339 form with an upper-case `T`, whatever separator was written.
    public var description: String { "\(date)T\(time)" }
}
