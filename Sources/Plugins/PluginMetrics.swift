import JSON

/// Counters and a latency histogram for one plugin, for the status dump and metrics.
struct PluginMetrics {
    var calls = 0
    var failuresByKind: [String: Int] = [:]
    var workersStarted = 0
    var workerCrashes = 0
    var recycled = 0
    var latency = LatencyHistogram()

    mutating func recordFailure(_ kind: PluginFailure.Kind) {
        failuresByKind[kind.name, default: 0] += 1
    }

    /// One call counted, its latency if it ran, its failure if it failed.
    mutating func record(nanoseconds: UInt64?, failure: PluginFailure.Kind?) {
        calls += 1
        if let nanoseconds { latency.record(nanoseconds: nanoseconds) }
        if let failure { recordFailure(failure) }
    }
}

/// Call latency in fixed buckets (Prometheus-style upper bounds, in seconds).
struct LatencyHistogram {
    static let boundsSeconds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
    private(set) var counts = [Int](repeating: 0, count: boundsSeconds.count + 1)
    private(set) var sumSeconds = 0.0
    private(set) var count = 0

    mutating func record(nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        let index = Self.boundsSeconds.firstIndex { seconds <= $0 } ?? Self.boundsSeconds.count
        counts[index] += 1
        sumSeconds += seconds
        count += 1
    }

    /// Cumulative counts per bound, below +Inf.
    var cumulative: [(upperBound: Double, cumulativeCount: Int)] {
        var running = 0
        return Self.boundsSeconds.enumerated().map { index, bound in
            running += counts[index]
            return (bound, running)
        }
    }
}
