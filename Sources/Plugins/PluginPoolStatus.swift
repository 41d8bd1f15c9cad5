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

    public var json: JSONObject {
        var failures: JSONObject = [:]
        for (kind, count) in failuresByKind.sorted(by: { $0.key < $1.key }) { failures[kind] = .number(JSONNumber(count)) }
        var buckets: JSONObject = [:]
        for bucket in latencyBuckets { buckets[String(bucket.upperBound)] = .number(JSONNumber(bucket.cumulativeCount)) }
        buckets["+Inf"] = .number(JSONNumber(latencyCount))
        return [
            "calls": .number(JSONNumber(calls)),
            "failures": .object(failures),
            "workersStarted": .number(JSONNumber(workersStarted)),
            "workerCrashes": .number(JSONNumber(workerCrashes)),
            "recycled": .number(JSONNumber(recycled)),
            "latency": [
                "count": .number(JSONNumber(latencyCount)), "sumSeconds": .number(JSONNumber(latencySumSeconds)), "buckets": .object(buckets),
            ],
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
