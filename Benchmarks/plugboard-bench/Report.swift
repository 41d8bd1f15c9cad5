/// The benchmark's results as a table, a verdict against plugboard's targets and JSON.
struct Report {
    /// What plugboard promises: the proxy adds at most this much p50 latency…
    static let addedP50Limit: [(size: Int, microseconds: Double)] = [(1024, 50), (51200, 150)]
    /// …and keeps at least this fraction of direct throughput.
    static let throughputFloor = 0.8

    let options: ProxyBenchmark.Options
    let results: [ProxyBenchmark.TargetResult]

    struct Comparison {
        var size: Int
        var deltaP50: Double
        var deltaP99: Double
        var throughputRatio: Double
        var p50Limit: Double
        var p50Interpolated: Bool
        var p50Passes: Bool { deltaP50 <= p50Limit }
        var throughputPasses: Bool { throughputRatio >= Report.throughputFloor }
    }

    var comparisons: [Comparison] {
        guard let direct = results.first(where: { $0.label == "direct" }),
            let proxied = results.first(where: { $0.label == "proxied" })
        else { return [] }
        return zip(direct.measurements, proxied.measurements).map { direct, proxied in
            let (limit, interpolated) = Self.p50Limit(forSize: direct.size)
            return Comparison(
                size: direct.size,
                deltaP50: proxied.latency.p50 - direct.latency.p50,
                deltaP99: proxied.latency.p99 - direct.latency.p99,
                throughputRatio: direct.callsPerSecond > 0 ? proxied.callsPerSecond / direct.callsPerSecond : 0,
                p50Limit: limit, p50Interpolated: interpolated)
        }
    }

    /// The target for sizes at or beyond the stated points; linear in between.
    static func p50Limit(forSize size: Int) -> (Double, interpolated: Bool) {
        let points = addedP50Limit
        if let exact = points.first(where: { $0.size == size }) { return (exact.microseconds, false) }
        if size <= points[0].size { return (points[0].microseconds, true) }
        if size >= points[points.count - 1].size { return (points[points.count - 1].microseconds, true) }
        for (low, high) in zip(points, points.dropFirst()) where size < high.size {
            let fraction = Double(size - low.size) / Double(high.size - low.size)
            return (low.microseconds + fraction * (high.microseconds - low.microseconds), true)
        }
        return (points[points.count - 1].microseconds, true)
    }

    func table() -> String {
        var lines: [String] = []
        lines.append(
            "\(options.iterations) sequential calls per size after \(options.warmup) warm-up; "
                + "throughput with \(options.inFlight) in flight for \(options.durationMilliseconds) ms")
        lines.append("")
        lines.append(row(["target", "size", "p50 µs", "p99 µs", "mean µs", "calls/s"], widths: [9, 8, 10, 10, 10, 11]))
        for result in results {
            for measurement in result.measurements {
                lines.append(row(
                    [
                        result.label, sizeLabel(measurement.size), fixed(measurement.latency.p50, 1),
                        fixed(measurement.latency.p99, 1), fixed(measurement.latency.mean, 1),
                        fixed(measurement.callsPerSecond, 0),
                    ], widths: [9, 8, 10, 10, 10, 11]))
            }
        }
        let comparisons = comparisons
        if !comparisons.isEmpty {
            lines.append("")
            lines.append("proxied vs direct (targets: adds ≤ 50 µs p50 at 1 KB, ≤ 150 µs at 50 KB, ≥ 80% of direct throughput)")
            let widths = [8, 10, 10, 19, 12, 18]
            lines.append(row(["size", "Δp50 µs", "Δp99 µs", "p50 target", "throughput", "throughput target"], widths: widths))
            for comparison in comparisons {
                let limit = "≤ \(fixed(comparison.p50Limit, 0))\(comparison.p50Interpolated ? "*" : "") "
                    + (comparison.p50Passes ? "PASS" : "MISS")
                let floor = "≥ \(fixed(Self.throughputFloor * 100, 0))% " + (comparison.throughputPasses ? "PASS" : "MISS")
                lines.append(row(
                    [
                        sizeLabel(comparison.size), signed(comparison.deltaP50), signed(comparison.deltaP99),
                        limit, fixed(comparison.throughputRatio * 100, 1) + "%", floor,
                    ], widths: widths))
            }
            if comparisons.contains(where: \.p50Interpolated) {
                lines.append("* target interpolated between the stated sizes")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line of JSON.
    func json() -> String {
        func number(_ value: Double) -> String { value.isFinite ? fixed(value, 3) : "null" }
        let targets = results.map { result in
            let measurements = result.measurements.map { m in
                #"{"size":\#(m.size),"iterations":\#(m.latency.count),"p50_us":\#(number(m.latency.p50)),"#
                    + #""p99_us":\#(number(m.latency.p99)),"mean_us":\#(number(m.latency.mean)),"#
                    + #""min_us":\#(number(m.latency.minimum)),"max_us":\#(number(m.latency.maximum)),"#
                    + #""throughput_calls_per_s":\#(number(m.callsPerSecond)),"throughput_calls":\#(m.throughputCalls)}"#
            }
            return #"{"label":\#(jsonString(result.label)),"command":\#(jsonString(result.command)),"#
                + #""exit":\#(jsonString(result.exit)),"results":[\#(measurements.joined(separator: ","))]}"#
        }
        let comparisons = comparisons.map { c in
            #"{"size":\#(c.size),"delta_p50_us":\#(number(c.deltaP50)),"delta_p99_us":\#(number(c.deltaP99)),"#
                + #""throughput_ratio":\#(number(c.throughputRatio)),"p50_limit_us":\#(number(c.p50Limit)),"#
                + #""p50_pass":\#(c.p50Passes),"throughput_pass":\#(c.throughputPasses)}"#
        }
        return #"{"benchmark":"proxy","iterations":\#(options.iterations),"warmup":\#(options.warmup),"#
            + #""in_flight":\#(options.inFlight),"duration_ms":\#(options.durationMilliseconds),"#
            + #""targets":[\#(targets.joined(separator: ","))],"comparison":[\#(comparisons.joined(separator: ","))]}"#
    }
}

private func row(_ cells: [String], widths: [Int]) -> String {
    var line = ""
    for (index, cell) in cells.enumerated() {
        let width = widths[index]
        let padding = String(repeating: " ", count: max(0, width - cell.count))
        // First column left-aligned, numbers right-aligned.
        line += index == 0 ? cell + padding : " " + padding + cell
    }
    return line
}

func sizeLabel(_ size: Int) -> String {
    if size >= 1024 && size % 1024 == 0 { return "\(size / 1024) KB" }
    if size >= 1024 { return fixed(Double(size) / 1024, 1) + " KB" }
    return "\(size) B"
}

/// `value` with exactly `digits` decimals (no Foundation formatting needed).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale)
    let fraction = Int(scaled - Double(whole) * scale)
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard digits > 0 else { return sign + String(whole) }
    let fractionText = String(fraction)
    return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
}

private func signed(_ value: Double) -> String {
    (value >= 0 ? "+" : "") + fixed(value, 1)
}

private func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
