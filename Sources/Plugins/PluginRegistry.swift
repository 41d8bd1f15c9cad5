import Glibc
import Config
import IO
import JSON
import Logging

/// Every plugin the configuration uses, each with its pool (or exec runner). Loop-confined.
public final class PluginRegistry {
    private let loop: EventLoop
    private let log: Logger
    private var pools: [String: PluginPool] = [:]
    private var execRunners: [String: ExecPluginRunner] = [:]

    private let settings: PoolSettings?
    private let budget: ExecutionBudget?
    /// Pools this registry created (not taken over from the previous generation).
    private var freshPools: [String] = []
    private var started = false

    /// Prepares a pool for every plugin a pool-mode chain entry names, and a runner for exec ones.
    /// With `previous`, a pool whose plugin files and settings are unchanged is taken over as it is.
    /// `fingerprints` computed off the loop are used if given; otherwise they are computed here.
    public init(
        config: PlugboardConfig, loop: EventLoop, log: Logger, previous: PluginRegistry? = nil, fingerprints: PluginFingerprints? = nil
    ) throws(HostScriptError) {
        self.loop = loop
        self.log = log
        let entries = config.servers.filter(\.enabled).flatMap { $0.plugins.request + $0.plugins.response }
        let settings = PoolSettings(config.plugins, maxMessageBytes: config.limits.maxMessageBytes)
        self.settings = settings
        guard !entries.isEmpty else {
            budget = nil
            return
        }
        let budget =
            previous?.budget.flatMap { $0.limit == config.plugins.maxConcurrentCalls ? $0 : nil }
            ?? ExecutionBudget(limit: config.plugins.maxConcurrentCalls)
        self.budget = budget
        let hostScript = entries.contains { $0.mode == .pool } ? try PluginHostScript.materialize() : ""
        let fingerprints = fingerprints ?? .compute(for: config)
        for entry in entries {
            let plugin = PluginDescriptor(name: entry.plugin, path: Self.path(of: entry.plugin, in: config.pluginsDirectory))
            switch entry.mode {
            case .pool where pools[entry.plugin] == nil:
                // Computed from the same configuration, so every pool plugin has one; "" never matches.
                let fingerprint = fingerprints.byPlugin[entry.plugin] ?? ""
                if let old = previous?.pools[entry.plugin], old.fingerprint == fingerprint, old.plugin == plugin,
                    previous?.settings == settings, old.readiness != .starting
                {
                    pools[entry.plugin] = old
                } else {
                    pools[entry.plugin] = PluginPool(
                        plugin: plugin, settings: settings, hostScript: hostScript, budget: budget, loop: loop, log: log,
                        fingerprint: fingerprint)
                    freshPools.append(entry.plugin)
                }
            case .exec where execRunners[entry.plugin] == nil:
                execRunners[entry.plugin] = ExecPluginRunner(plugin: plugin, settings: settings, loop: loop, log: log)
            default:
                break
            }
        }
    }

    /// Starts the pools this registry created and waits until each has a worker that loaded its
    /// plugin (the canary), or reports which could not: `[plugin: reason]`.
    public func prepare(timeout: UInt64 = 10_000_000_000, completion: @escaping ([String: String]) -> Void) {
        start()
        let fresh = freshPools.compactMap { name in pools[name].map { (name, $0) } }
        var finished = false
        var timer: EventLoop.TimerID?
        func conclude(timedOut: Bool) {
            guard !finished else { return }
            var failures: [String: String] = [:]
            var waiting = false
            for (name, pool) in fresh {
                switch pool.readiness {
                case .broken(let reason): failures[name] = reason
                case .starting where timedOut: failures[name] = "no worker answered ready within \(timeout / 1_000_000_000)s"
                case .starting: waiting = true
                case .serving: break
                }
            }
            guard failures.isEmpty ? !waiting : true else { return }
            finished = true
            if let timer { loop.cancelTimer(timer) }
            for (_, pool) in fresh { pool.onReadinessChange = nil }
            completion(failures)
        }
        for (_, pool) in fresh { pool.onReadinessChange = { conclude(timedOut: false) } }
        timer = loop.schedule(afterNanoseconds: timeout) { conclude(timedOut: true) }
        conclude(timedOut: false)
    }

    /// Drains the pools of this registry that `successor` did not take over.
    public func retire(keepingPoolsOf successor: PluginRegistry?) {
        for (name, pool) in pools where successor?.pools[name] !== pool {
            log.tagged("plugins").info("retiring the previous pool of '\(name)'")
            pool.drain {}
        }
    }

    /// Drains the pools this registry created (a rejected generation).
    public func discardFreshPools() {
        for name in freshPools { pools[name]?.drain {} }
    }

    static func path(of plugin: String, in directory: String) -> String {
        let module = "\(directory)/\(plugin).mjs"
        return FileStatus.isRegularFile(module) ? module : "\(directory)/\(plugin).js"
    }

    public var isEmpty: Bool { pools.isEmpty && execRunners.isEmpty }

    public func start() {
        guard !started else { return }
        started = true
        for name in freshPools.sorted() { pools[name]?.start() }
        if !pools.isEmpty { log.tagged("plugins").info("started pools for \(pools.keys.sorted().joined(separator: ", "))") }
    }

    func call(
        _ entry: PluginChainEntry, phase: PluginPhase, input: JSONValue,
        completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void
    ) {
        switch entry.mode {
        case .pool:
            guard let pool = pools[entry.plugin] else { return missing(entry, phase, completion) }
            pool.call(phase: phase, input: input, timeout: entry.timeout, completion: completion)
        case .exec:
            guard let runner = execRunners[entry.plugin] else { return missing(entry, phase, completion) }
            runner.call(phase: phase, input: input, timeout: entry.timeout ?? runner.defaultTimeout, completion: completion)
        }
    }

    private func missing(_ entry: PluginChainEntry, _ phase: PluginPhase, _ completion: (Result<JSONValue?, PluginFailure>) -> Void) {
        completion(.failure(PluginFailure(plugin: entry.plugin, phase: phase, kind: .unavailable(reason: "not configured"))))
    }

    /// Drains every pool; `completion` runs when all workers have exited.
    public func drain(completion: @escaping () -> Void) {
        var remaining = pools.count
        guard remaining > 0 else { return completion() }
        for pool in pools.values {
            pool.drain {
                remaining -= 1
                if remaining == 0 { completion() }
            }
        }
    }

    private enum DrainState {
        case serving(waiters: [() -> Void])
        case draining(waiters: [() -> Void])
        case drained
    }

    private var drainState = DrainState.serving(waiters: [])

    public var poolStatus: [PluginPoolStatus] { pools.sorted { $0.key < $1.key }.map(\.value.status) }

    /// Plugins run as a process per call (`mode = "exec"`).
    public var execPlugins: [String] { execRunners.keys.sorted() }
}

enum FileStatus {
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}

extension PluginRegistry: Service {
    public var serviceName: String { "the plugin pools" }

    public func beginDrain() {
        guard case .serving(let waiters) = drainState else { return }
        drainState = .draining(waiters: waiters)
        drain { [weak self] in
            guard let self, case .draining(let waiters) = self.drainState else { return }
            self.drainState = .drained
            for waiter in waiters { waiter() }
        }
    }

    public func whenDrained(_ completion: @escaping () -> Void) {
        switch drainState {
        case .serving(let waiters): drainState = .serving(waiters: waiters + [completion])
        case .draining(let waiters): drainState = .draining(waiters: waiters + [completion])
        case .drained: completion()
        }
    }

    /// Pools stop their workers within their own drain timeout; there is nothing faster to do.
    public func forceStop() {}
}
