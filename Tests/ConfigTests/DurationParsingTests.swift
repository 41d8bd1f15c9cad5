import Config
import Testing

@Suite("durations are written with a unit or as seconds")
struct DurationParsingTests {
    @Test("unit suffixes ms, s, m and h parse", arguments: [
        ("250ms", 250), ("10s", 10_000), ("1.5s", 1_500), ("2m", 120_000), ("1h", 3_600_000), ("0s", 0),
    ] as [(String, Int64)])
    func units(text: String, milliseconds: Int64) {
        #expect(TimeSpan(parsing: text) == TimeSpan(milliseconds: milliseconds))
    }

    @Test("malformed or negative durations are rejected", arguments: ["10", "-1s", "s", "1.s", "1 s", "1d", "infs", "1e3s", "+5s"])
    func rejected(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test("a bare number in the config is seconds")
    func numbers() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("request_timeout = 2\nhealth_check_interval = 0.25\n")])
        defer { directory.remove() }
        let server = try #require(try directory.load().servers.first)
        #expect(server.requestTimeout == .seconds(2))
        #expect(server.healthCheckInterval == .milliseconds(250))
    }

    @Test("a negative number of seconds is rejected at its value")
    func negative() throws {
        let directory = try TemporaryConfigDirectory(["plugboard.toml": minimalConfig("health_check_timeout = -3\n")])
        defer { directory.remove() }
        #expect(directory.errorLines().first?.hasPrefix("plugboard.toml:3:24: `health_check_timeout` must be a non-negative duration") == true)
    }
}
