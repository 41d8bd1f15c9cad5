/// The benchmark's results as a table, a verdict against the targets and JSON.
struct Report {
    let options: ProxyBenchmark.Options
    let results: [ProxyBenchmark.TargetResult]

    /// The second target (proxied) against the first (direct) at one size.
    struct Comparison {
        var size: Int
        var deltaP50: Double
        var deltaP99: Double
        var throughputRatio: Double
        var p50Limit: (microseconds: Double, interpolated: Bool)?
        var p99Limit: (microseconds: Double, interpolated: Bool)?
        var throughputFloor: Double
        var p50Passes: Bool { p50Limit.map { deltaP50 <= $0.microseconds } ?? true }
        var p99Passes: Bool { p99Limit.map { deltaP99 <= $0.microseconds } ?? true }
        var throughputPasses: Bool { throughputRatio >= throughputFloor }
        var interpolated: Bool { p50Limit?.interpolated == true || p99Limit?.interpolated == true }
    }

    var title: String { options.title ?? "\(options.labels.proxied) vs \(options.labels.direct)" }

    var comparisons: [Comparison] {
        guard results.count == 2 else { return [] }
        let targets = options.targets
        return zip(results[0].measurements, results[1].measurements).map { direct, proxied in
            Comparison(
                size: direct.size,
                deltaP50: proxied.latency.p50 - direct.latency.p50,
                deltaP99: proxied.latency.p99 - direct.latency.p99,
                throughputRatio: direct.callsPerSecond > 0 ? proxied.callsPerSecond / direct.callsPerSecond : 0,
                p50Limit: Targets.limit(in: targets.addedP50, forSize: direct.size),
                p99Limit: Targets.limit(in: targets.addedP99, forSize: direct.size),
                throughputFloor: targets.throughputFloor)
        }
    }

    var errors: Int { results.reduce(0) { $0 + $1.errors } }

    func table() -> String {
        var lines: [String] = []
        lines.append(
            "\(options.iterations) sequential calls per size after \(options.warmup) warm-up; "
                + "throughput with \(options.inFlight) in flight for \(options.durationMilliseconds) ms")
        lines.append("")
        let labelWidth = max(9, (results.map(\.label.count).max() ?? 0) + 1)
        let widths = [labelWidth, 8, 10, 10, 10, 11, 12, 7]
        lines.append(row(["target", "size", "p50 µs", "p99 µs", "mean µs", "calls/s", "CPU µs/call", "errors"], widths: widths))
        for result in results {
            for measurement in result.measurements {
                lines.append(row(
                    [
                        result.label, sizeLabel(measurement.size), fixed(measurement.latency.p50, 1),
                        fixed(measurement.latency.p99, 1), fixed(measurement.latency.mean, 1),
                        fixed(measurement.callsPerSecond, 0), measurement.cpuMicrosecondsPerCall.map { fixed($0, 1) } ?? "—",
                        String(measurement.errors),
                    ], widths: widths))
            }
        }
        let comparisons = comparisons
        if !comparisons.isEmpty {
            let targets = options.targets
            lines.append("")
            lines.append("\(title) (targets: \(targets.summary(baseline: options.labels.direct)))")
            var header = ["size", "Δp50 µs", "Δp99 µs"]
            var widths = [8, 10, 10]
            if !targets.addedP50.isEmpty { header.append("p50 target"); widths.append(19) }
            if !targets.addedP99.isEmpty { header.append("p99 target"); widths.append(19) }
            header.append("throughput"); widths.append(12)
            if targets.throughputFloor > 0 { header.append("throughput target"); widths.append(18) }
            lines.append(row(header, widths: widths))
            for comparison in comparisons {
                var cells = [sizeLabel(comparison.size), signed(comparison.deltaP50), signed(comparison.deltaP99)]
                if let limit = comparison.p50Limit { cells.append(verdict(limit, passes: comparison.p50Passes)) }
                if let limit = comparison.p99Limit { cells.append(verdict(limit, passes: comparison.p99Passes)) }
                cells.append(fixed(comparison.throughputRatio * 100, 1) + "%")
                if targets.throughputFloor > 0 {
                    cells.append(
                        "≥ \(fixed(targets.throughputFloor * 100, 0))% " + (comparison.throughputPasses ? "PASS" : "MISS"))
                }
                lines.append(row(cells, widths: widths))
            }
            if comparisons.contains(where: \.interpolated) {
                lines.append("* target interpolated between the stated sizes")
            }
        }
        lines.append("")
        lines.append(errorLine())
        return lines.joined(separator: "\n")
    }

    /// "errors: 0", or how many, where, and the first one.
    private func errorLine() -> String {
        let errors = errors
        guard errors > 0 else { return "errors: 0" }
        var parts: [String] = []
        for result in results {
            for measurement in result.measurements where measurement.errors > 0 {
                parts.append("\(result.label) \(sizeLabel(measurement.size)): \(measurement.errors)")
            }
        }
        var line = "errors: \(errors) (\(parts.joined(separator: ", ")))"
        for result in results {
            if let first = result.firstError { line += "\n  first from \(result.label): \(first)" }
        }
        return line
    }

    /// One line of JSON.
    func json() -> String {
        func number(_ value: Double) -> String { value.isFinite ? fixed(value, 3) : "null" }
        func limit(_ value: (microseconds: Double, interpolated: Bool)?) -> String { value.map { number($0.microseconds) } ?? "null" }
        let targets = results.map { result in
            let measurements = result.measurements.map { m in
                #"{"size":\#(m.size),"iterations":\#(m.latency.count),"p50_us":\#(number(m.latency.p50)),"#
                    + #""p99_us":\#(number(m.latency.p99)),"mean_us":\#(number(m.latency.mean)),"#
                    + #""min_us":\#(number(m.latency.minimum)),"max_us":\#(number(m.latency.maximum)),"#
                    + #""throughput_calls_per_s":\#(number(m.callsPerSecond)),"throughput_calls":\#(m.throughputCalls),"#
                    + #""cpu_us_per_call":\#(m.cpuMicrosecondsPerCall.map(number) ?? "null"),"#
                    + #""errors":\#(m.errors)}"#
            }
            return #"{"label":\#(jsonString(result.label)),"command":\#(jsonString(result.command)),"#
                + #""exit":\#(jsonString(result.exit)),"errors":\#(result.errors),"#
                + #""results":[\#(measurements.joined(separator: ","))]}"#
        }
        let comparisons = comparisons.map { c in
            #"{"size":\#(c.size),"delta_p50_us":\#(number(c.deltaP50)),"delta_p99_us":\#(number(c.deltaP99)),"#
                + #""throughput_ratio":\#(number(c.throughputRatio)),"p50_limit_us":\#(limit(c.p50Limit)),"#
                + #""p99_limit_us":\#(limit(c.p99Limit)),"throughput_floor":\#(number(c.throughputFloor)),"#
                + #""p50_pass":\#(c.p50Passes),"p99_pass":\#(c.p99Passes),"throughput_pass":\#(c.throughputPasses)}"#
        }
        return #"{"benchmark":"proxy","title":\#(jsonString(title)),"iterations":\#(options.iterations),"#
            + #""warmup":\#(options.warmup),"in_flight":\#(options.inFlight),"duration_ms":\#(options.durationMilliseconds),"#
            + #""errors":\#(errors),"targets":[\#(targets.joined(separator: ","))],"#
            + #""comparison":[\#(comparisons.joined(separator: ","))]}"#
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

/// "≤ 250 PASS", with a * when interpolated.
private func verdict(_ limit: (microseconds: Double, interpolated: Bool), passes: Bool) -> String {
    "≤ \(fixed(limit.microseconds, 0))\(limit.interpolated ? "*" : "") " + (passes ? "PASS" : "MISS")
}

private func signed(_ value: Double) -> String {
    (value >= 0 ? "+" : "") + fixed(value, 1)  // NaN: "-"
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
