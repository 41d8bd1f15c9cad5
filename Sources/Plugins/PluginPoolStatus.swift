import JSON

/// One plugin pool as the status dump and `/metrics` show it.
public struct PluginPoolStatus: Sendable {
    public struct Worker: Sendable {
        public let pid: Int32
        public let state: String
        public let inFlight: Int
        public let calls: Int
        public let residentBytes: Int?
    }

    public let plugin: String
    /// starting, serving, broken: <reason>, or draining.
    public let state: String
    public let fingerprint: String
    public let queued: Int
    public let inFlight: Int
    public let workers: [Worker]
    public let calls: Int
    public let failuresByKind: [String: Int]
    public let workersStarted: Int
    public let workerCrashes: Int
    public let recycled: Int
    /// Cumulative counts per upper bound in seconds, as Prometheus wants them.
    public let latencyBuckets: [(upperBound: Double, cumulativeCount: Int)]
    public let latencySumSeconds: Double
    public let latencyCount: Int
    /// Each plugin of a pool that several share; empty for a pool of one, whose figures above are its plugin's.
    public let members: [PluginCallStatus]

    /// The calls of each plugin: the pool's own figures, or its members'.
    public var callsByPlugin: [PluginCallStatus] {
        members.isEmpty
            ? [PluginCallStatus(plugin: plugin, calls: calls, failuresByKind: failuresByKind, latencyBuckets: latencyBuckets, latencySumSeconds: latencySumSeconds, latencyCount: latencyCount)]
            : members
    }

    public var json: JSONObject {
        var object: JSONObject = [
            "calls": .number(JSONNumber(calls)),
            "failures": PluginCallStatus.json(failuresByKind),
            "workersStarted": .number(JSONNumber(workersStarted)),
            "workerCrashes": .number(JSONNumber(workerCrashes)),
            "recycled": .number(JSONNumber(recycled)),
            "latency": PluginCallStatus.json(buckets: latencyBuckets, sum: latencySumSeconds, count: latencyCount),
            "state": .string(state),
            "fingerprint": .string(fingerprint),
            "queued": .number(JSONNumber(queued)),
            "inFlight": .number(JSONNumber(inFlight)),
            "workers": .array(
                workers.map { worker in
                    [
                        "pid": .number(JSONNumber(Int64(worker.pid))),
                        "state": .string(worker.state),
                        "inFlight": .number(JSONNumber(worker.inFlight)),
                        "calls": .number(JSONNumber(worker.calls)),
                        "rssBytes": worker.residentBytes.map { .number(JSONNumber($0)) } ?? .null,
                    ]
                }),
        ]
        if !members.isEmpty {
            object["plugins"] = .object(JSONObject(uniqueKeysWithValues: members.map { ($0.plugin, JSONValue.object($0.json)) }))
        }
        return object
    }
}

/// One plugin's calls, counted per plugin even where it shares its pool with others.
public struct PluginCallStatus: Sendable {
    public let plugin: String
    public let calls: Int
    public let failuresByKind: [String: Int]
    public let latencyBuckets: [(upperBound: Double, cumulativeCount: Int)]
    public let latencySumSeconds: Double
    public let latencyCount: Int

    init(plugin: String, metrics: PluginMetrics) {
        self.init(
            plugin: plugin, calls: metrics.calls, failuresByKind: metrics.failuresByKind, latencyBuckets: metrics.latency.cumulative,
            latencySumSeconds: metrics.latency.sumSeconds, latencyCount: metrics.latency.count)
    }

    public init(
        plugin: String, calls: Int, failuresByKind: [String: Int], latencyBuckets: [(upperBound: Double, cumulativeCount: Int)],
        latencySumSeconds: Double, latencyCount: Int
    ) {
        self.plugin = plugin
        self.calls = calls
        self.failuresByKind = failuresByKind
        self.latencyBuckets = latencyBuckets
        self.latencySumSeconds = latencySumSeconds
        self.latencyCount = latencyCount
    }

    var json: JSONObject {
        [
            "calls": .number(JSONNumber(calls)), "failures": Self.json(failuresByKind),
            "latency": Self.json(buckets: latencyBuckets, sum: latencySumSeconds, count: latencyCount),
        ]
    }

    /// One entry per plugin, sorted by name: a plugin in several pools is counted once, in all.
    public static func merged(_ statuses: [PluginCallStatus]) -> [PluginCallStatus] {
        Dictionary(grouping: statuses, by: \.plugin).sorted { $0.key < $1.key }.map { plugin, group in
            let buckets = group[0].latencyBuckets.indices.map { index in
                (upperBound: group[0].latencyBuckets[index].upperBound, cumulativeCount: group.reduce(0) { $0 + $1.latencyBuckets[index].cumulativeCount })
            }
            return PluginCallStatus(
                plugin: plugin, calls: group.reduce(0) { $0 + $1.calls },
                failuresByKind: group.reduce(into: [:]) { total, status in total.merge(status.failuresByKind, uniquingKeysWith: +) },
                latencyBuckets: buckets, latencySumSeconds: group.reduce(0) { $0 + $1.latencySumSeconds },
                latencyCount: group.reduce(0) { $0 + $1.latencyCount })
        }
    }

    static func json(_ failuresByKind: [String: Int]) -> JSONValue {
        .object(JSONObject(uniqueKeysWithValues: failuresByKind.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number(JSONNumber($0.value))) }))
    }

    static func json(buckets: [(upperBound: Double, cumulativeCount: Int)], sum: Double, count: Int) -> JSONValue {
        var table: JSONObject = [:]
        for bucket in buckets { table[String(bucket.upperBound)] = .number(JSONNumber(bucket.cumulativeCount)) }
        table["+Inf"] = .number(JSONNumber(count))
        return ["count": .number(JSONNumber(count)), "sumSeconds": .number(JSONNumber(sum)), "buckets": .object(table)]
    }
}

extension [PluginPoolStatus] {
    /// The pools by plugin name, for the status dump.
    public var json: JSONObject {
        var result: JSONObject = [:]
        for pool in self { result[pool.plugin] = .object(pool.json) }
        return result
    }
}
