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

    /// Prepares a pool for every plugin a pool-mode chain entry names, and a runner for exec ones.
    public init(config: PlugboardConfig, loop: EventLoop, log: Logger) throws(HostScriptError) {
        self.loop = loop
        self.log = log
        let entries = config.servers.filter(\.enabled).flatMap { $0.plugins.request + $0.plugins.response }
        guard !entries.isEmpty else { return }
        let settings = PoolSettings(config.plugins, maxMessageBytes: config.limits.maxMessageBytes)
        let budget = ExecutionBudget(limit: config.plugins.maxConcurrentCalls)
        let hostScript = entries.contains { $0.mode == .pool } ? try PluginHostScript.materialize() : ""
        for entry in entries {
            let plugin = PluginDescriptor(name: entry.plugin, path: Self.path(of: entry.plugin, in: config.pluginsDirectory))
            switch entry.mode {
            case .pool where pools[entry.plugin] == nil:
                pools[entry.plugin] = PluginPool(
                    plugin: plugin, settings: settings, hostScript: hostScript, budget: budget, loop: loop, log: log)
            case .exec where execRunners[entry.plugin] == nil:
                execRunners[entry.plugin] = ExecPluginRunner(plugin: plugin, settings: settings, loop: loop, log: log)
            default:
                break
            }
        }
    }

    static func path(of plugin: String, in directory: String) -> String {
        let module = "\(directory)/\(plugin).mjs"
        return FileStatus.isRegularFile(module) ? module : "\(directory)/\(plugin).js"
    }

    public var isEmpty: Bool { pools.isEmpty && execRunners.isEmpty }

    public func start() {
        for pool in pools.values.sorted(by: { $0.plugin.name < $1.plugin.name }) { pool.start() }
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

    public var status: JSONObject {
        var result: JSONObject = [:]
        for (name, pool) in pools.sorted(by: { $0.key < $1.key }) { result[name] = .object(pool.status) }
        for name in execRunners.keys.sorted() { result[name] = ["mode": "exec"] }
        return result
    }
}

enum FileStatus {
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
