/// Client requests answered, by method and outcome, with latency histograms: what `/metrics`
/// exports as `plugboard_requests_total` and `plugboard_request_duration_seconds`.
public final class RequestMetrics {
    public enum Outcome: String, Sendable, CaseIterable { case ok, error }

    public struct Key: Hashable, Sendable {
        public let method: String
        public let outcome: Outcome
    }

    public struct Histogram: Sendable {
        public private(set) var counts: [Int]
        public private(set) var sum: Double = 0
        public private(set) var count = 0

        init() { counts = Array(repeating: 0, count: RequestMetrics.bucketBounds.count) }

        mutating func observe(_ seconds: Double) {
            sum += seconds
            count += 1
            if let index = RequestMetrics.bucketBounds.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
        }

        /// Cumulative counts per upper bound, as Prometheus wants them.
        public var cumulative: [(upperBound: Double, cumulativeCount: Int)] {
            var running = 0
            return zip(RequestMetrics.bucketBounds, counts).map { bound, count in
                running += count
                return (bound, running)
            }
        }
    }

    /// Seconds; from a cached answer to a slow documentation fetch.
    public static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// Methods reported by name; anything else is `other`, so a client cannot grow the label set.
    static let knownMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
        "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe",
        "completion/complete", "logging/setLevel",
    ]

    public private(set) var histograms: [Key: Histogram] = [:]

    public init() {}

    func record(method: String, outcome: Outcome, seconds: Double) {
        let key = Key(method: Self.knownMethods.contains(method) ? method : "other", outcome: outcome)
        histograms[key, default: Histogram()].observe(seconds)
    }
}
