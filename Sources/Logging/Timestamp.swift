import Glibc

/// RFC 3339 UTC timestamps, e.g. `2026-11-22T03:04:05.123Z`, for logs and status fields.
public enum Timestamp {
    public static func now(withMilliseconds: Bool = true) -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let date = "\(parts.tm_year + 1900)-\(pad(Int(parts.tm_mon) + 1))-\(pad(Int(parts.tm_mday)))"
        let clock = "\(pad(Int(parts.tm_hour))):\(pad(Int(parts.tm_min))):\(pad(Int(parts.tm_sec)))"
        let fraction = withMilliseconds ? "." + pad(Int(time.tv_nsec / 1_000_000), 3) : ""
        return "\(date)T\(clock)\(fraction)Z"
    }
}
