import Glibc
import Config
import IO
import JSON
import Logging

/// Every plugin the configuration uses, each with its pool (or exec runner). Loop-confined.
public final class PluginRegistry {
    private let loop: EventLoop
    private let log: Logger
    /// By name: a plugin's, or with `isolation = "chain"` the "+"-joined names of a server's plugins.
    private var pools: [String: PluginPool] = [:]
    /// With `isolation = "chain"`, the pool that holds all of a server's pool-mode plugins.
    private var sharedPools: [String: String] = [:]
    private var execRunners: [String: ExecPluginRunner] = [:]

    private let settings: PoolSettings?
    private let budget: ExecutionBudget?
    private var hostScript = ""
    private var fingerprintsByPlugin: [String: String] = [:]
    private let pluginsDirectory: String
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
        pluginsDirectory = config.pluginsDirectory
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
        hostScript = entries.contains { $0.mode == .pool } ? try PluginHostScript.materialize() : ""
        fingerprintsByPlugin = (fingerprints ?? .compute(for: config)).byPlugin
        for group in Self.poolGroups(config) where pools[PluginPool.name(of: group)] == nil {
            let name = PluginPool.name(of: group)
            if let old = previous?.pools[name], old.fingerprint == fingerprint(of: group), old.members == group.map(descriptor),
                previous?.settings == settings, old.readiness != .starting
            {
                pools[name] = old
            } else {
                addPool(of: group)
            }
        }
        if config.plugins.isolation == .chain {
            for server in config.servers where server.enabled {
                let group = Self.poolPlugins(of: server)
                if !group.isEmpty { sharedPools[server.name] = PluginPool.name(of: group) }
            }
        }
        for entry in entries where entry.mode == .exec && execRunners[entry.plugin] == nil {
            execRunners[entry.plugin] = ExecPluginRunner(plugin: descriptor(entry.plugin), settings: settings, loop: loop, log: log)
        }
    }

    private func descriptor(_ plugin: String) -> PluginDescriptor {
        PluginDescriptor(name: plugin, path: Self.path(of: plugin, in: pluginsDirectory))
    }

    /// Computed from the same configuration, so every pool plugin has one; "" never matches.
    private func fingerprint(of group: [String]) -> String {
        group.map { fingerprintsByPlugin[$0] ?? "" }.joined(separator: "|")
    }

    /// Creates the pool that loads `group` (it starts with the others, or at once if they have).
    @discardableResult
    private func addPool(of group: [String]) -> PluginPool? {
        guard let settings, let budget else { return nil }
        let name = PluginPool.name(of: group)
        let pool = PluginPool(
            members: group.map(descriptor), settings: settings, hostScript: hostScript, budget: budget, loop: loop, log: log,
            fingerprint: fingerprint(of: group))
        pools[name] = pool
        freshPools.append(name)
        if started { pool.start() }
        return pool
    }

    /// A shared pool whose worker could not load one of its plugins would fail the others' calls
    /// too. Each fault stays with its plugin instead: that plugin gets a pool of its own (where it
    /// fails alone, under its own name and `on_error`), and the rest share a pool without it.
    private func splitOffUnloadableMembers() {
        for (name, pool) in pools {
            guard pool.isShared, let failure = pool.loadFailure, let culprit = failure.plugin, pool.holds(culprit) else { continue }
            let rest = pool.members.map(\.name).filter { $0 != culprit }
            let restName = PluginPool.name(of: rest)
            log.tagged("plugins").warning("plugin '\(culprit)' cannot be loaded; '\(restName)' runs in a pool without it")
            pools[name] = nil
            freshPools.removeAll { $0 == name }
            if pools[restName] == nil { addPool(of: rest) }
            // Known not to load: its calls fail at once, while its own workers try again.
            (pools[culprit] ?? addPool(of: [culprit]))?.markBroken(LoadFailure(reason: failure.reason))
            for (server, shared) in sharedPools where shared == name { sharedPools[server] = restName }
            pool.onReadinessChange = nil
            pool.drain {}
        }
    }

    /// The plugins each pool loads: one pool per plugin, or with `isolation = "chain"` one per
    /// distinct set of a server's pool-mode plugins (servers with the same set share it).
    static func poolGroups(_ config: PlugboardConfig) -> [[String]] {
        let servers = config.servers.filter(\.enabled)
        switch config.plugins.isolation {
        case .plugin: return Set(servers.flatMap(poolPlugins(of:))).sorted().map { [$0] }
        case .chain: return Set(servers.map(poolPlugins(of:)).filter { !$0.isEmpty }).sorted { $0.joined() < $1.joined() }
        }
    }

    /// A server's pool-mode plugins, sorted, each once.
    static func poolPlugins(of server: UpstreamServer) -> [String] {
        Set((server.plugins.request + server.plugins.response).filter { $0.mode == .pool }.map(\.plugin)).sorted()
    }

    /// The pool that runs `entry` for `server`'s chains.
    private func pool(for entry: PluginChainEntry, server: String) -> PluginPool? {
        pool(of: entry.plugin, server: server)
    }

    private func pool(of plugin: String, server: String) -> PluginPool? {
        if let shared = sharedPool(of: server), shared.holds(plugin) { return shared }
        return pools[plugin]
    }

    private func sharedPool(of server: String) -> PluginPool? {
        guard let name = sharedPools[server], let pool = pools[name] else { return nil }
        guard pool.unloadableMember == nil else {
            splitOffUnloadableMembers()
            return sharedPools[server].flatMap { pools[$0] }
        }
        return pool
    }

    /// How many entries from `index` on run in one round trip: consecutive pool-mode entries
    /// whose plugins one worker holds. 1 means the entry runs on its own.
    func fusedLength(of entries: [PluginChainEntry], from index: Int, server: String) -> Int {
        guard let shared = sharedPool(of: server) else { return 1 }
        return max(entries[index...].prefix { $0.mode == .pool && shared.holds($0.plugin) }.count, 1)
    }

    /// Starts the pools this registry created and waits until each has a worker that loaded its
    /// plugin (the canary), or reports which could not: `[plugin: reason]`.
    public func prepare(timeout: UInt64 = 10_000_000_000, completion: @escaping ([String: String]) -> Void) {
        start()
        var finished = false
        var timer: EventLoop.TimerID?
        var fresh: [(String, PluginPool)] = []
        func conclude(timedOut: Bool) {
            guard !finished else { return }
            splitOffUnloadableMembers()
            for (_, pool) in fresh { pool.onReadinessChange = nil }
            fresh = freshPools.compactMap { name in pools[name].map { (name, $0) } }
            for (_, pool) in fresh { pool.onReadinessChange = { conclude(timedOut: false) } }
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
        _ entry: PluginChainEntry, phase: PluginPhase, input: JSONValue, server: String,
        completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void
    ) {
        switch entry.mode {
        case .pool:
            guard let pool = pool(for: entry, server: server) else { return missing(entry, phase, completion) }
            pool.submit(.call(plugin: entry.plugin, phase: phase, input: input), timeout: entry.timeout, completion: completion)
        case .exec:
            guard let runner = execRunners[entry.plugin] else { return missing(entry, phase, completion) }
            runner.call(phase: phase, input: input, timeout: entry.timeout ?? runner.defaultTimeout, completion: completion)
        }
    }

    /// The default timeout of a pool entry that sets none.
    var defaultTimeout: TimeSpan { settings?.plugins.timeout ?? PluginSettings().timeout }

    /// Runs `steps` (entries `fusedLength` grouped) in their shared worker. The run may take as
    /// long as its steps' timeouts together; each step is also held to its own in the worker.
    func run(
        _ steps: [FusedRun.Step], phase: PluginPhase, body: JSONObject, server: String,
        completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void
    ) {
        let name = FusedRun.name(of: steps)
        guard let first = steps.first?.entry, let pool = pool(for: first, server: server) else {
            return completion(.failure(PluginFailure(plugin: name, phase: phase, kind: .unavailable(reason: "not configured"))))
        }
        let total = TimeSpan(milliseconds: steps.reduce(0) { $0 + $1.timeout.milliseconds })
        pool.submit(.run(name: name, phase: phase, body: body), timeout: total, completion: completion)
    }

    /// Counts one step of a fused run against its plugin.
    func record(step plugin: String, server: String, milliseconds: Double, failure: PluginFailure.Kind?) {
        pool(of: plugin, server: server)?.recordMember(plugin, nanoseconds: UInt64(max(milliseconds, 0) * 1e6), failure: failure)
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
