extension TOMLScanner {
    /// Parses a local date, local date-time or offset date-time from a token starting `YYYY-`.
    func parseDateTime(_ token: [UInt8], text: String, at start: TOMLLocation) throws(TOMLError) -> TOMLValue {
        let invalid = error("invalid date-time `\(text)`; expected e.g. `1979-05-27`, `1979-05-27T07:32:00` or `1979-05-27T07:32:00Z`", at: start)
        guard token.count >= 10,
            token[4] == UInt8(ascii: "-"), token[7] == UInt8(ascii: "-"),
            let year = number(token[0..<4]), let month = number(token[5..<7]), let day = number(token[8..<10])
        else { throw invalid }
        guard (1...12).contains(month) else {
            throw error("month \(month) is out of range 01-12 in `\(text)`", at: start)
        }
        guard day >= 1 && day <= TOMLLocalDate.daysIn(month: month, year: year) else {
            throw error("day \(day) does not exist in month \(month) of \(year) in `\(text)`", at: start)
        }
        let date = TOMLLocalDate(year: year, month: month, day: day)
        if token.count == 10 { return .localDate(date) }

        let separator = token[10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ") else {
            throw invalid
        }
        var rest = token[11...]
        var offsetText: ArraySlice<UInt8> = []
        if let offsetStart = rest.firstIndex(where: { $0 == UInt8(ascii: "Z") || $0 == UInt8(ascii: "z") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }) {
            offsetText = rest[offsetStart...]
            rest = rest[..<offsetStart]
        }
        let time = try parseTime(rest, text: text, at: start)
        if offsetText.isEmpty {
            return .localDateTime(TOMLLocalDateTime(date: date, time: time))
        }
        if offsetText.count == 1 && (offsetText.first == UInt8(ascii: "Z") || offsetText.first == UInt8(ascii: "z")) {
            return .offsetDateTime(TOMLOffsetDateTime(date: date, time: time, offsetMinutes: nil))
        }
        guard offsetText.count == 6, offsetText[offsetText.startIndex + 3] == UInt8(ascii: ":"),
            let hours = number(offsetText.dropFirst().prefix(2)), let minutes = number(offsetText.suffix(2))
        else {
            throw error("invalid UTC offset in `\(text)`; expected `Z` or `+HH:MM`/`-HH:MM`", at: start)
        }
        guard hours <= 23 && minutes <= 59 else {
            throw error("UTC offset out of range in `\(text)`", at: start)
        }
        let sign = offsetText.first == UInt8(ascii: "-") ? -1 : 1
        return .offsetDateTime(TOMLOffsetDateTime(date: date, time: time, offsetMinutes: sign * (hours * 60 + minutes)))
    }

    /// Parses `HH:MM:SS` with an optional `.fraction`.
    func parseTime(_ token: ArraySlice<UInt8>, text: String, at start: TOMLLocation) throws(TOMLError) -> TOMLLocalTime {
        let bytes = Array(token)
        guard bytes.count >= 8, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: ":"),
            let hour = number(bytes[0..<2]), let minute = number(bytes[3..<5]), let second = number(bytes[6..<8])
        else {
            throw error("invalid time in `\(text)`; expected `HH:MM:SS` with optional fraction, e.g. `07:32:00.5`", at: start)
        }
        var fraction = ""
        if bytes.count > 8 {
            let digits = bytes[9...]
            guard bytes[8] == UInt8(ascii: "."), !digits.isEmpty, digits.allSatisfy(isDigit) else {
                throw error("invalid time in `\(text)`; a `.` must be followed by digits", at: start)
            }
            fraction = String(decoding: digits, as: UTF8.self)
        }
        guard hour <= 23, minute <= 59, second <= 60 else {
            throw error("time out of range in `\(text)`; hours go to 23, minutes to 59, seconds to 60", at: start)
        }
        return TOMLLocalTime(hour: hour, minute: minute, second: second, fractionDigits: fraction)
    }

    private func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
