import JSON
import Watcher

/// What only the outer process knows, sent to the core for its status dump and `/metrics`: how
/// often the core was replaced and why, and the counters of the file watcher it runs.
struct HostStatus: Equatable {
    struct Restart: Equatable {
        var cause: String
        var at: String
        /// From the failure to the next core serving; nil until it does.
        var recoveryMilliseconds: Double?
    }

    var restarts = 0
    var lastRestart: Restart?
    var watcher: WatcherCounters?

    /// The status dump's `core` section.
    var coreJSON: JSONObject {
        var core: JSONObject = ["isolated": true, "restarts": .number(JSONNumber(restarts))]
        if let lastRestart {
            core["lastRestart"] = [
                "cause": .string(lastRestart.cause), "at": .string(lastRestart.at),
                "recoveryMilliseconds": lastRestart.recoveryMilliseconds.map { .number(JSONNumber($0)) } ?? .null,
            ]
        }
        return core
    }

    var message: JSONValue {
        var host = coreJSON
        if let watcher { host["watcher"] = .object(watcher.json) }
        return ["host": .object(host)]
    }

    init(restarts: Int = 0, lastRestart: Restart? = nil, watcher: WatcherCounters? = nil) {
        self.restarts = restarts
        self.lastRestart = lastRestart
        self.watcher = watcher
    }

    /// Reads `message`'s `host` object back; what is missing keeps its default.
    init(host: JSONObject) {
        restarts = host["restarts"]?.int64Value.map(Int.init) ?? 0
        if let last = host["lastRestart"]?.objectValue {
            lastRestart = Restart(
                cause: last["cause"]?.stringValue ?? "", at: last["at"]?.stringValue ?? "",
                recoveryMilliseconds: last["recoveryMilliseconds"]?.doubleValue)
        }
        watcher = host["watcher"]?.objectValue.map(WatcherCounters.init(json:))
    }
}

extension WatcherCounters {
    var json: JSONObject {
        [
            "watches": .number(JSONNumber(watches)), "events": .number(JSONNumber(events)),
            "overflows": .number(JSONNumber(overflows)), "rescans": .number(JSONNumber(rescans)),
            "changeSets": .number(JSONNumber(changeSets)), "ignoredEvents": .number(JSONNumber(ignoredEvents)),
            "watchFailures": .number(JSONNumber(watchFailures)),
        ]
    }

    init(json: JSONObject) {
        self.init()
        func count(_ key: String) -> Int { json[key]?.int64Value.map(Int.init) ?? 0 }
        watches = count("watches")
        events = count("events")
        overflows = count("overflows")
        rescans = count("rescans")
        changeSets = count("changeSets")
        ignoredEvents = count("ignoredEvents")
        watchFailures = count("watchFailures")
    }
}
