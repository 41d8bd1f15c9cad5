import Processes

/// Measures MCP stdio servers, directly and through the proxy: per-call latency of
/// sequential `tools/call`s and throughput with several requests outstanding.
struct ProxyBenchmark {
    struct Options {
        var commands: [(label: String, command: String)] = []
        var iterations = 1000
        var warmup = 100
        var sizes = [1024, 51200]
        var inFlight = 8
        var durationMilliseconds = 3000
        var tool = "payload"
        var sizeArgument = "bytes"
        var json = false
        /// The proxied target's protocol era (the direct server is always spoken to in the handshake era).
        var modernProxied = false
        var labels = (direct: "direct", proxied: "proxied")
        /// Heads the comparison; "<proxied label> vs <direct label>" unless given.
        var title: String?
        var targets = Targets()

        init(parsing arguments: [String]) throws {
            var direct: String?, proxied: String?
            var remaining = arguments[...]
            func value(_ flag: String) throws -> String {
                guard let value = remaining.popFirst() else { throw BenchError("\(flag) needs a value") }
                return value
            }
            func count(_ flag: String, minimum: Int) throws -> Int {
                let text = try value(flag)
                guard let number = Int(text), number >= minimum else {
                    throw BenchError("\(flag) needs an integer ≥ \(minimum), not \"\(text)\"")
                }
                return number
            }
            while let flag = remaining.popFirst() {
                switch flag {
                case "--direct": direct = try value(flag)
                case "--proxied": proxied = try value(flag)
                case "--iterations": iterations = try count(flag, minimum: 1)
                case "--warmup": warmup = try count(flag, minimum: 0)
                case "--in-flight": inFlight = try count(flag, minimum: 1)
                case "--duration-ms": durationMilliseconds = try count(flag, minimum: 1)
                case "--tool": tool = try value(flag)
                case "--size-argument": sizeArgument = try value(flag)
                case "--json": json = true
                case "--era":
                    switch try value(flag) {
                    case "legacy": modernProxied = false
                    case "modern": modernProxied = true
                    case let other: throw BenchError("--era is legacy or modern, not \"\(other)\"")
                    }
                case "--title": title = try value(flag)
                case "--labels":
                    let text = try value(flag)
                    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != parts[1] else {
                        throw BenchError("--labels needs two different names, direct's and proxied's (e.g. baseline,plugins), not \"\(text)\"")
                    }
                    labels = (parts[0], parts[1])
                case "--p50-targets": targets.addedP50 = try Targets.parsePoints(try value(flag), flag: flag)
                case "--p99-targets": targets.addedP99 = try Targets.parsePoints(try value(flag), flag: flag)
                case "--throughput-floor":
                    let text = try value(flag)
                    guard let floor = Double(text), floor >= 0, floor.isFinite else {
                        throw BenchError("--throughput-floor needs a fraction ≥ 0 (0.8 is 80%), not \"\(text)\"")
                    }
                    targets.throughputFloor = floor
                case "--sizes":
                    let text = try value(flag)
                    sizes = try text.split(separator: ",").map { item in
                        guard let size = parseSize(item) else { throw BenchError("--sizes: \"\(item)\" is not a byte count") }
                        return size
                    }
                    if sizes.isEmpty { throw BenchError("--sizes needs at least one size") }
                default: throw BenchError("unknown option \"\(flag)\"")
                }
            }
            guard let direct else { throw BenchError("--direct is required") }
            commands = [(labels.direct, direct)]
            if let proxied { commands.append((labels.proxied, proxied)) }
        }
    }

    struct Measurement {
        var size: Int
        var latency: LatencySummary
        var callsPerSecond: Double
        var throughputCalls: Int
        /// Error responses among the warm-up and sequential calls (left out of the latency samples)…
        var latencyErrors: Int
        /// …and among the throughput calls (left out of the count).
        var throughputErrors: Int
        /// The target process's own CPU time per completed call in the throughput phase
        /// (from /proc, its children excluded: plugboard's, not its upstream's).
        var cpuMicrosecondsPerCall: Double?
        var errors: Int { latencyErrors + throughputErrors }
    }

    struct TargetResult {
        var label: String
        var command: String
        var measurements: [Measurement]
        var exit: String
        /// The first error response, cut short, to say what went wrong.
        var firstError: String?
        var errors: Int { measurements.reduce(0) { $0 + $1.errors } }
    }

    let options: Options

    /// Measures, prints the report, and returns the number of error responses.
    func run() throws -> Int {
        let results = try measureAll()
        let report = Report(options: options, results: results)
        print(report.table())
        if options.json { print(report.json()) }
        return results.reduce(0) { $0 + $1.errors }
    }

    /// Starts every target, then measures them side by side: latency calls alternate
    /// between targets so that both see the same machine (other builds, CPU frequency,
    /// a JIT warming up), and throughput phases run one target at a time.
    private func measureAll() throws -> [TargetResult] {
        var targets: [StdioTarget] = []
        for (index, (label, command)) in options.commands.enumerated() {
            FileDescriptor.standardError.writeMessage("plugboard-bench: starting \(label): \(command)\n")
            let target = try StdioTarget(label: label, command: command, modern: index > 0 && options.modernProxied)
            targets.append(target)
            try target.initialize()
        }
        var measurements = [[Measurement]](repeating: [], count: targets.count)
        for size in options.sizes {
            FileDescriptor.standardError.writeMessage("plugboard-bench: measuring \(sizeLabel(size))\n")
            // Warm-up errors count too: a chain that fails only while cold still fails.
            var errors = [Int](repeating: 0, count: targets.count)
            for _ in 0..<options.warmup {
                for index in targets.indices where try call(targets[index], size: size) == nil { errors[index] += 1 }
            }
            var samples = [[UInt64]](repeating: [], count: targets.count)
            for index in targets.indices { samples[index].reserveCapacity(options.iterations) }
            for iteration in 0..<options.iterations {
                // Alternate who goes first: the target called second runs while the first
                // may still be busy after answering (garbage collection, flushing).
                let order = iteration.isMultiple(of: 2) ? Array(targets.indices) : targets.indices.reversed()
                for index in order {
                    if let latency = try call(targets[index], size: size) {
                        samples[index].append(latency)
                    } else {
                        errors[index] += 1
                    }
                }
            }
            for (index, target) in targets.enumerated() {
                let cpuBefore = target.cpuMicroseconds
                let (calls, perSecond, throughputErrors) = try throughput(target, size: size)
                var cpu: Double?
                if let before = cpuBefore, let after = target.cpuMicroseconds, calls > 0 { cpu = (after - before) / Double(calls) }
                measurements[index].append(Measurement(
                    size: size, latency: LatencySummary(nanoseconds: samples[index]),
                    callsPerSecond: perSecond, throughputCalls: calls,
                    latencyErrors: errors[index], throughputErrors: throughputErrors, cpuMicrosecondsPerCall: cpu))
            }
        }
        return zip(targets, measurements).map { target, measurements in
            TargetResult(
                label: target.label, command: target.command, measurements: measurements,
                exit: target.shutDown().description, firstError: target.firstError)
        }
    }

    /// One sequential call; returns its latency in ns (send → last byte of the response),
    /// or nil if the answer was an error response.
    private func call(_ target: StdioTarget, size: Int) throws -> UInt64? {
        let started = monotonicNanoseconds()
        let id = try target.sendCall(tool: options.tool, sizeArgument: options.sizeArgument, size: size)
        let answer = try target.awaitCallResponse(id: id, step: "tools/call \(options.tool)")
        return answer.isError ? nil : answer.time - started
    }

    /// Keeps `inFlight` calls outstanding for the duration; returns the successful calls
    /// completed within it, calls per second, and every error response. Outstanding calls
    /// are drained afterwards, uncounted unless they fail.
    private func throughput(_ target: StdioTarget, size: Int) throws -> (Int, Double, errors: Int) {
        let step = "tools/call \(options.tool)"
        for _ in 0..<options.inFlight {
            try target.sendCall(tool: options.tool, sizeArgument: options.sizeArgument, size: size)
        }
        var outstanding = options.inFlight, completed = 0, errors = 0
        let started = monotonicNanoseconds()
        let deadline = started + UInt64(options.durationMilliseconds) * 1_000_000
        while outstanding > 0 {
            let response = try target.awaitAnyResponse(step: step)
            guard response.isResponse else { continue }
            outstanding -= 1
            if response.isError { errors += 1 }  // the drained ones too
            if monotonicNanoseconds() < deadline {
                if !response.isError { completed += 1 }
                try target.sendCall(tool: options.tool, sizeArgument: options.sizeArgument, size: size)
                outstanding += 1
            }
        }
        let seconds = Double(options.durationMilliseconds) / 1000
        return (completed, Double(completed) / seconds, errors)
    }
}

/// Parses "1024", "50k" or "1m" (binary multiples).
func parseSize(_ text: Substring) -> Int? {
    let lower = text.lowercased()
    if let number = Int(lower) { return number >= 0 ? number : nil }
    let multiplier: Int
    switch lower.last {
    case "k": multiplier = 1024
    case "m": multiplier = 1024 * 1024
    default: return nil
    }
    guard let number = Int(lower.dropLast()), number >= 0 else { return nil }
    return number * multiplier
}
