/// Percentiles and mean of latency samples, in microseconds; NaN when there are none (every
/// call failed), so that no comparison passes on them.
struct LatencySummary {
    let count: Int
    let p50: Double
    let p99: Double
    let mean: Double
    let minimum: Double
    let maximum: Double

    init(nanoseconds samples: [UInt64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func percentile(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            // Nearest rank.
            let rank = Int((fraction * Double(sorted.count)).rounded(.up))
            return Double(sorted[max(0, min(sorted.count - 1, rank - 1))]) / 1000
        }
        p50 = percentile(0.50)
        p99 = percentile(0.99)
        mean = sorted.isEmpty ? .nan : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000
        minimum = sorted.first.map { Double($0) / 1000 } ?? .nan
        maximum = sorted.last.map { Double($0) / 1000 } ?? .nan
    }
}
