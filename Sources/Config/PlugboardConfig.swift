/// The whole of plugboard's configuration, typed and validated.
///
/// Built by `ConfigLoader` from `plugboard.toml` and `conf.d/*.toml`; every
/// relative path in it has already been resolved against the config directory.
public struct PlugboardConfig: Sendable, Equatable {
    /// The directory the configuration was read from.
    public var directory: String
    public var limits: Limits
    public var logging: LoggingSettings
    public var exposure: Exposure
    /// Absolute path of the plugins directory (`plugins_dir`, default `../plugins.d`).
    public var pluginsDirectory: String
    /// Upstream servers in the order their tables first appear.
    public var servers: [UpstreamServer]
    /// `[plugins]`: the worker pools every plugin runs in.
    public var plugins: PluginSettings
    /// `[http]`: the Streamable HTTP frontend (off unless it has `listen` addresses).
    public var http: HTTPSettings
    /// `[admin]`: where the health, readiness, metrics and status endpoints are served.
    public var admin: AdminSettings
    /// `[core]`: the proxy core as a supervised child process.
    public var core: CoreSettings

    public init(
        directory: String,
        limits: Limits = Limits(),
        logging: LoggingSettings = LoggingSettings(),
        exposure: Exposure = Exposure(),
        pluginsDirectory: String,
        servers: [UpstreamServer],
        plugins: PluginSettings = PluginSettings(),
        http: HTTPSettings = HTTPSettings(),
        admin: AdminSettings = AdminSettings(), core: CoreSettings = CoreSettings()
    ) {
        self.directory = directory
        self.limits = limits
        self.logging = logging
        self.exposure = exposure
        self.pluginsDirectory = pluginsDirectory
        self.servers = servers
        self.plugins = plugins
        self.http = http
        self.admin = admin
        self.core = core
    }

    public func server(named name: String) -> UpstreamServer? {
        servers.first { $0.name == name }
    }
}

/// A span of time, written in TOML as `"250ms"`, `"10s"`, `"2m"`, `"1h"` or a number of seconds.
public struct TimeSpan: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> TimeSpan { TimeSpan(milliseconds: s * 1000) }
    public static func milliseconds(_ ms: Int64) -> TimeSpan { TimeSpan(milliseconds: ms) }
    public var seconds: Double { Double(milliseconds) / 1000 }
    public var nanoseconds: UInt64 { UInt64(max(0, milliseconds)) * 1_000_000 }
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }
    public var description: String {
        if milliseconds % 3_600_000 == 0 && milliseconds != 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 && milliseconds != 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}

/// Global limits (`[limits]`).
public struct Limits: Sendable, Equatable {
    /// Largest JSON-RPC message accepted on any pipe, in bytes (`max_message_bytes`, default 16 MiB).
    public var maxMessageBytes: Int
    /// Default per-request timeout toward an upstream (`request_timeout`, default 60s).
    public var requestTimeout: TimeSpan
    /// How long `initialize` may take per upstream (`initialize_timeout`, default 30s).
    public var initializeTimeout: TimeSpan
    /// How long in-flight requests may take to finish on shutdown (`shutdown_timeout`, default 10s).
    public var shutdownTimeout: TimeSpan
    /// Most requests in flight per upstream before new ones are refused (`max_in_flight`, default 1024).
    public var maxInFlightPerUpstream: Int
    /// Bytes queued toward a peer that does not read before it is considered stuck (`max_queued_bytes`, default 64 MiB).
    public var maxQueuedBytes: Int
    /// How long a call waits for a modern client to retry with the input its legacy server asked for
    /// (`input_timeout`, default 5m); then it is cancelled upstream.
    public var inputTimeout: TimeSpan
    /// How long the core's event loop keeps polling after serving something before it sleeps,
    /// while most waits have been that short (`busy_poll_us`, default 50; 0: never).
    public var busyPollMicroseconds: Int

    public init(
        maxMessageBytes: Int = 16 * 1024 * 1024,
        requestTimeout: TimeSpan = .seconds(60),
        initializeTimeout: TimeSpan = .seconds(30),
        shutdownTimeout: TimeSpan = .seconds(10),
        maxInFlightPerUpstream: Int = 1024,
        maxQueuedBytes: Int = 64 * 1024 * 1024,
        inputTimeout: TimeSpan = .seconds(300),
        busyPollMicroseconds: Int = 50
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.requestTimeout = requestTimeout
        self.initializeTimeout = initializeTimeout
        self.shutdownTimeout = shutdownTimeout
        self.maxInFlightPerUpstream = maxInFlightPerUpstream
        self.maxQueuedBytes = maxQueuedBytes
        self.inputTimeout = inputTimeout
        self.busyPollMicroseconds = busyPollMicroseconds
    }
}

/// `[log]`: how plugboard writes its log to stderr.
public struct LoggingSettings: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable { case human, json }
    public enum Level: String, Sendable, Equatable, Comparable, CaseIterable {
        case trace, debug, info, notice, warning, error
        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }
    public var level: Level
    public var format: Format
    public init(level: Level = .info, format: Format = .human) {
        self.level = level
        self.format = format
    }
}

/// `[expose]`: how the upstreams appear to a client.
public struct Exposure: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Transparent when exactly one server is configured, aggregated otherwise.
        case auto
        /// Exactly one upstream, passed through unchanged (names unprefixed).
        case transparent
        /// Every upstream behind one endpoint, names prefixed with `<server><separator>`.
        case aggregate
    }
    public var mode: Mode
    /// Joins a server's name to its tool and prompt names (`separator`, default `"__"`).
    public var separator: String
    public init(mode: Mode = .auto, separator: String = "__") {
        self.mode = mode
        self.separator = separator
    }
}

/// Allow and deny glob lists for one kind of name (tools, prompts or resources).
///
/// A name is visible when it matches some `allow` glob (empty means all) and no `deny` glob.
/// Globs support `*` (any run of characters), `?` (one character) and `[abc]` classes.
public struct NameFilter: Sendable, Equatable {
    public var allow: [String]
    public var deny: [String]
    public init(allow: [String] = [], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }
    public var isPassThrough: Bool { allow.isEmpty && deny.isEmpty }
}

/// How plugboard reaches an upstream server.
public enum UpstreamTransport: Sendable, Equatable {
    /// A child process speaking newline-delimited JSON-RPC on stdin/stdout.
    case stdio(command: String, arguments: [String], environment: [String: String], workingDirectory: String)
    /// A remote server over Streamable HTTP (2025-03-26 and later).
    case streamableHTTP(url: String)
    /// A remote server over the legacy HTTP+SSE transport (2024-11-05).
    case legacySSE(url: String)
}

/// `[plugins]`: how plugin workers run.
public struct PluginSettings: Sendable, Equatable {
    /// Warm Node processes kept per plugin (`min_workers`, default 1).
    public var minWorkers: Int
    /// Most processes per plugin when calls pile up (`max_workers`, default 4).
    public var maxWorkers: Int
    /// Calls one worker runs at once (`concurrency`, default 4); more wait in plugboard.
    public var concurrency: Int
    /// Calls waiting per plugin before new ones are refused (`max_queue`, default 256).
    public var maxQueue: Int
    /// Calls running at once across all plugins (`max_concurrent_calls`, default 64).
    public var maxConcurrentCalls: Int
    /// Default for a chain entry's `timeout` (`timeout`, default 30s), waiting included.
    public var timeout: TimeSpan
    /// A worker is recycled after this many calls (`max_calls_per_worker`, default 10000; 0: never).
    public var maxCallsPerWorker: Int
    /// A worker is recycled after this long (`max_worker_age`, default 1h; "0s": never).
    public var maxWorkerAge: TimeSpan
    /// How long a draining or timed-out worker gets before SIGTERM, then SIGKILL (`drain_timeout`, default 5s).
    public var drainTimeout: TimeSpan
    /// Node's heap cap per worker, and the resident size that gets it replaced (`max_memory_mb`, default 256).
    public var maxMemoryMegabytes: Int
    /// The Node.js executable (`node`, default "node", looked up in PATH).
    public var node: String
    /// Variables of plugboard's environment passed to workers (`pass_env`), beside PATH, HOME, LANG, TZ, TMPDIR.
    public var passEnvironment: [String]
    /// Variables set for workers (`env`).
    public var environment: [String: String]
    /// Node's permission model (`[plugins.permissions]`); nil when off.
    public var permissions: PluginPermissions?
    /// Which plugins share worker processes (`isolation`, default `chain`).
    public var isolation: Isolation

    public enum Isolation: String, Sendable, Equatable, CaseIterable {
        /// The pool-mode plugins of one server share its workers, and consecutive entries of a
        /// chain run in one round trip.
        case chain
        /// Every plugin has workers of its own, and each entry is a round trip.
        case plugin
    }

    public init(
        minWorkers: Int = 1, maxWorkers: Int = 4, concurrency: Int = 4, maxQueue: Int = 256, maxConcurrentCalls: Int = 64,
        timeout: TimeSpan = .seconds(30), maxCallsPerWorker: Int = 10_000, maxWorkerAge: TimeSpan = .seconds(3600),
        drainTimeout: TimeSpan = .seconds(5), maxMemoryMegabytes: Int = 256, node: String = "node",
        passEnvironment: [String] = [], environment: [String: String] = [:], permissions: PluginPermissions? = nil,
        isolation: Isolation = .chain
    ) {
        self.isolation = isolation
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
        self.concurrency = concurrency
        self.maxQueue = maxQueue
        self.maxConcurrentCalls = maxConcurrentCalls
        self.timeout = timeout
        self.maxCallsPerWorker = maxCallsPerWorker
        self.maxWorkerAge = maxWorkerAge
        self.drainTimeout = drainTimeout
        self.maxMemoryMegabytes = maxMemoryMegabytes
        self.node = node
        self.passEnvironment = passEnvironment
        self.environment = environment
        self.permissions = permissions
    }
}

/// `[plugins.permissions]`: run workers under Node's permission model (`--experimental-permission`).
public struct PluginPermissions: Sendable, Equatable {
    /// Paths workers may read besides the plugin's own folder (`fs_read`).
    public var fileSystemRead: [String]
    /// Paths workers may write (`fs_write`).
    public var fileSystemWrite: [String]
    /// Whether workers may start processes (`child_process`, default false).
    public var childProcess: Bool

    public init(fileSystemRead: [String] = [], fileSystemWrite: [String] = [], childProcess: Bool = false) {
        self.fileSystemRead = fileSystemRead
        self.fileSystemWrite = fileSystemWrite
        self.childProcess = childProcess
    }
}

/// One entry of a plugin chain (`[[servers.NAME.plugins.request]]` or `.response`).
public struct PluginChainEntry: Sendable, Equatable {
    /// Plugin name: a file `NAME.js` or `NAME.mjs` in the plugins directory.
    public var plugin: String
    /// Tool globs this entry applies to (empty means every tool).
    public var tools: [String]
    /// Methods this entry applies to (default `["tools/call"]`).
    public var methods: [String]
    /// Free-form table handed to the plugin, as JSON text.
    public var configJSON: String
    /// Where the entry was written, for error messages (`file:line:col`).
    public var location: String
    /// How the plugin runs (`mode`, default `pool`).
    public var mode: Mode
    /// What a failing plugin (timeout, crash, invalid output) does to the call (`on_error`, default `fail`).
    public var onError: FailurePolicy
    /// How long one call of this entry may take (`timeout`, default `[plugins] timeout`).
    public var timeout: TimeSpan?

    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// In the warm worker pool, through the plugin host.
        case pool
        /// Once per call as `node SCRIPT`, input JSON on stdin, one JSON line out (scripts of the original design).
        case exec
    }

    public enum FailurePolicy: String, Sendable, Equatable, CaseIterable {
        /// The call fails with an error naming the plugin and phase.
        case fail
        /// The plugin is skipped (logged) and the chain goes on with the content unchanged.
        case skip
    }

    public init(
        plugin: String, tools: [String] = [], methods: [String] = ["tools/call"], configJSON: String = "{}", location: String = "",
        mode: Mode = .pool, onError: FailurePolicy = .fail, timeout: TimeSpan? = nil
    ) {
        self.timeout = timeout
        self.mode = mode
        self.onError = onError
        self.plugin = plugin
        self.tools = tools
        self.methods = methods
        self.configJSON = configJSON
        self.location = location
    }
}

public struct PluginChains: Sendable, Equatable {
    public var request: [PluginChainEntry]
    public var response: [PluginChainEntry]
    public init(request: [PluginChainEntry] = [], response: [PluginChainEntry] = []) {
        self.request = request
        self.response = response
    }
}

/// `[servers.NAME]`: one upstream MCP server.
public struct UpstreamServer: Sendable, Equatable {
    /// The table's key; also the prefix in aggregated mode. Matches `[A-Za-z0-9_-]+`.
    public var name: String
    public var transport: UpstreamTransport
    /// Whether the server is started at all (`enabled`, default true).
    public var enabled: Bool
    public var tools: NameFilter
    public var prompts: NameFilter
    public var resources: NameFilter
    /// Per-request timeout (`request_timeout`, default: `limits.request_timeout`).
    public var requestTimeout: TimeSpan
    /// Restart backoff after an exit: starts at `restart_backoff_initial` (500ms), doubles to `restart_backoff_max` (30s).
    public var restartBackoffInitial: TimeSpan
    public var restartBackoffMax: TimeSpan
    /// Ping health check period (`health_check_interval`, default 30s; `"0s"` disables it).
    public var healthCheckInterval: TimeSpan
    /// How long a health-check ping may take (`health_check_timeout`, default 10s).
    public var healthCheckTimeout: TimeSpan
    /// Which protocol era to speak (`protocol`, default `"auto"`: probe with `server/discover`, then `initialize`).
    public var protocolPreference: ProtocolPreference
    /// How long the `server/discover` probe may take before the server counts as legacy (`discover_timeout`, default 5s).
    public var discoverTimeout: TimeSpan
    /// Headers, TLS and proxy settings of a `url` server.
    public var remote: RemoteOptions
    public var plugins: PluginChains

    public init(
        name: String,
        transport: UpstreamTransport,
        enabled: Bool = true,
        tools: NameFilter = NameFilter(),
        prompts: NameFilter = NameFilter(),
        resources: NameFilter = NameFilter(),
        requestTimeout: TimeSpan = .seconds(60),
        restartBackoffInitial: TimeSpan = .milliseconds(500),
        restartBackoffMax: TimeSpan = .seconds(30),
        healthCheckInterval: TimeSpan = .seconds(30),
        healthCheckTimeout: TimeSpan = .seconds(10),
        protocolPreference: ProtocolPreference = .auto,
        discoverTimeout: TimeSpan = .seconds(5),
        remote: RemoteOptions = RemoteOptions(),
        plugins: PluginChains = PluginChains()
    ) {
        self.name = name
        self.transport = transport
        self.enabled = enabled
        self.tools = tools
        self.prompts = prompts
        self.resources = resources
        self.requestTimeout = requestTimeout
        self.restartBackoffInitial = restartBackoffInitial
        self.restartBackoffMax = restartBackoffMax
        self.healthCheckInterval = healthCheckInterval
        self.healthCheckTimeout = healthCheckTimeout
        self.protocolPreference = protocolPreference
        self.discoverTimeout = discoverTimeout
        self.remote = remote
        self.plugins = plugins
    }
}

/// `protocol` of a server: find its era the way a dual-era client does, or speak one revision.
public enum ProtocolPreference: Sendable, Equatable, CustomStringConvertible {
    case auto
    case pinned(String)

    /// The revisions a server may be pinned to, newest first.
    public static let knownVersions = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    public var description: String {
        switch self {
        case .auto: "auto"
        case .pinned(let version): version
        }
    }
}
