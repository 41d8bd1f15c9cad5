import TOML
import Testing

@Suite("dates and times keep their components and validate ranges")
struct TOMLDateTimeTests {
    @Test("all four date-time kinds parse, keeping fractional seconds as written")
    func kinds() throws {
        let table = try parse("""
            odt = 1979-05-27T00:32:00.999000-07:00
            utc = 1979-05-27 07:32:00z
            ldt = 1979-05-27T07:32:00
            ld = 1979-05-27
            lt = 07:32:00.5
            """)
        guard case .offsetDateTime(let odt) = table["odt"] else { Issue.record("odt"); return }
        #expect(odt.offsetMinutes == -420)
        #expect(odt.time.fractionDigits == "999000")
        #expect(odt.time.nanosecond == 999_000_000)
        #expect(odt.description == "1979-05-27T00:32:00.999000-07:00")
        #expect(table["utc"].map { "\($0)" }?.contains("07:32:00") == true)
        guard case .offsetDateTime(let utc) = table["utc"] else { Issue.record("utc"); return }
        #expect(utc.offsetMinutes == nil && utc.description == "1979-05-27T07:32:00Z")
        #expect(table["ldt"] == .localDateTime(.init(date: .init(year: 1979, month: 5, day: 27), time: .init(hour: 7, minute: 32, second: 0))))
        #expect(table["ld"] == .localDate(.init(year: 1979, month: 5, day: 27)))
        #expect(table["lt"] == .localTime(.init(hour: 7, minute: 32, second: 0, fractionDigits: "5")))
    }

    @Test("February 29th exists only in leap years")
    func leapYears() throws {
        #expect(try parse("d = 2000-02-29")["d"] != nil)
        #expect(try parse("d = 2024-02-29")["d"] != nil)
        #expect(rejection("d = 1900-02-29")?.message.contains("does not exist") == true)
        #expect(rejection("d = 2023-02-29") != nil)
    }

    @Test("out-of-range components are rejected", arguments: [
        "d = 2020-13-01", "d = 2020-00-10", "d = 2020-04-31", "t = 24:00:00", "t = 12:60:00",
        "t = 12:00:61", "d = 2020-01-01T12:00:00+24:00", "t = 12:00", "d = 2020-1-01", "d = 2020-01-01T12:00:00.",
    ])
    func outOfRange(input: String) {
        #expect(rejection(input) != nil)
    }
}
