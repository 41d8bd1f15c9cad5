/// What a comparison promises: at most so much added latency per result size (p50, and
/// optionally p99), and at least a fraction of the baseline's throughput. The defaults are
/// the proxy's targets; `--p50-targets`, `--p99-targets` and `--throughput-floor` change them.
struct Targets {
    /// A limit on added latency at one result size.
    struct Point {
        var size: Int
        var microseconds: Double
    }

    /// Adds at most 50 µs p50 at 1 KB and 150 µs at 50 KB…
    var addedP50: [Point] = [Point(size: 1024, microseconds: 50), Point(size: 51200, microseconds: 150)]
    /// …no p99 promise unless one is given…
    var addedP99: [Point] = []
    /// …and keeps at least this fraction of the baseline's throughput (0: report the ratio only).
    var throughputFloor = 0.8

    /// Parses `1024:250,50k:1000` (size:µs, sizes as `--sizes` takes them), or `none`.
    static func parsePoints(_ text: String, flag: String) throws -> [Point] {
        if text == "none" { return [] }
        var points: [Point] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let size = parseSize(parts[0]), let limit = Double(parts[1]), limit.isFinite, limit >= 0
            else {
                throw BenchError("\(flag): \"\(item)\" is not size:microseconds (e.g. 1024:250,51200:1000)")
            }
            guard !points.contains(where: { $0.size == size }) else {
                throw BenchError("\(flag): \(sizeLabel(size)) is given twice")
            }
            points.append(Point(size: size, microseconds: limit))
        }
        guard !points.isEmpty else { throw BenchError("\(flag) needs at least one size:microseconds, or none") }
        return points.sorted { $0.size < $1.size }
    }

    /// The limit at `size`: a stated point, the nearest end beyond them, linear in between;
    /// nil when there are no points.
    static func limit(in points: [Point], forSize size: Int) -> (microseconds: Double, interpolated: Bool)? {
        guard let first = points.first, let last = points.last else { return nil }
        if let exact = points.first(where: { $0.size == size }) { return (exact.microseconds, false) }
        if size <= first.size { return (first.microseconds, true) }
        if size >= last.size { return (last.microseconds, true) }
        for (low, high) in zip(points, points.dropFirst()) where size < high.size {
            let fraction = Double(size - low.size) / Double(high.size - low.size)
            return (low.microseconds + fraction * (high.microseconds - low.microseconds), true)
        }
        return (last.microseconds, true)
    }

    /// "adds ≤ 50 µs p50 at 1 KB, ≤ 150 µs at 50 KB, ≥ 80% of direct throughput"
    func summary(baseline: String) -> String {
        func describe(_ points: [Point], _ percentile: String) -> String? {
            guard !points.isEmpty else { return nil }
            return points.enumerated().map { index, point in
                (index == 0 ? "adds ≤ \(fixed(point.microseconds, 0)) µs \(percentile)" : "≤ \(fixed(point.microseconds, 0)) µs")
                    + " at \(sizeLabel(point.size))"
            }.joined(separator: ", ")
        }
        let throughput =
            throughputFloor > 0
            ? "≥ \(fixed(throughputFloor * 100, 0))% of \(baseline) throughput" : "throughput reported, no floor"
        return [describe(addedP50, "p50"), describe(addedP99, "p99"), throughput].compactMap { $0 }.joined(separator: "; ")
    }
}
