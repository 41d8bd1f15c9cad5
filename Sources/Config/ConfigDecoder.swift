import TOML

/// Turns the merged TOML tables into a `PlugboardConfig`, logging every schema violation.
struct ConfigDecoder {
    /// The merged document.
    let root: TOMLTable
    /// Absolute path of the configuration directory.
    let directory: String
    /// How messages name the main file, for errors that have no better location.
    let mainFile: String
    let log: ConfigErrorLog
    /// The process environment, for `${env:…}` references and the proxy variables.
    let environment: (String) -> String?

    func decode() -> PlugboardConfig {
        let top = TableReader(table: root, name: "the top level", log: log)
        top.rejectUnknownKeys(known: ["limits", "log", "expose", "plugins_dir", "plugins", "servers", "http", "admin", "auth", "core"])
        let limits = decodeLimits(top.subtable("limits"))
        let logging = decodeLogging(top.subtable("log"))
        let exposure = decodeExposure(top.subtable("expose"))
        let pluginsDirectory = ConfigPath.resolve(top.string("plugins_dir") ?? "../plugins.d", against: directory)
        let serverDecoder = ServerDecoder(
            directory: directory, pluginsDirectory: pluginsDirectory,
            limits: limits, separator: exposure.separator, log: log,
            references: ValueReferences(directory: directory, environment: environment),
            tokenDirectory: decodeTokenDirectory(top.subtable("auth")))
        var servers: [UpstreamServer] = []
        if let table = top.subtable("servers") {
            servers = table.entries.compactMap(serverDecoder.decode)
        }
        checkEnabledServers(servers, exposure: exposure)
        return PlugboardConfig(
            directory: directory, limits: limits, logging: logging, exposure: exposure,
            pluginsDirectory: pluginsDirectory, servers: servers, plugins: decodePlugins(top.subtable("plugins")),
            http: decodeHTTP(top.subtable("http")), admin: decodeAdmin(top.subtable("admin")), core: decodeCore(top.subtable("core")))
    }

    /// `[auth] token_directory`, or the default state directory.
    private func decodeTokenDirectory(_ table: TOMLTable?) -> String {
        guard let table else { return DefaultTokenDirectory.resolve(environment: environment) }
        let reader = TableReader(table: table, name: "[auth]", log: log)
        reader.rejectUnknownKeys(known: ["token_directory"])
        guard let path = reader.string("token_directory") else { return DefaultTokenDirectory.resolve(environment: environment) }
        return ConfigPath.resolve(path, against: directory)
    }

    private func decodePlugins(_ table: TOMLTable?) -> PluginSettings {
        var settings = PluginSettings()
        guard let table else { return settings }
        let reader = TableReader(table: table, name: "[plugins]", log: log)
        reader.rejectUnknownKeys(known: [
            "min_workers", "max_workers", "concurrency", "max_queue", "max_concurrent_calls", "timeout",
            "max_calls_per_worker", "max_worker_age", "drain_timeout", "max_memory_mb", "node", "pass_env", "env", "permissions",
            "isolation",
        ])
        if let value = reader.integer("min_workers", minimum: 0) { settings.minWorkers = value }
        if let value = reader.integer("max_workers", minimum: 1) { settings.maxWorkers = value }
        if settings.minWorkers > settings.maxWorkers {
            log.add("`min_workers` (\(settings.minWorkers)) must not exceed `max_workers` (\(settings.maxWorkers))", at: reader.entry("min_workers")?.valueLocation)
        }
        if let value = reader.integer("concurrency", minimum: 1) { settings.concurrency = value }
        if let value = reader.integer("max_queue", minimum: 0) { settings.maxQueue = value }
        if let value = reader.integer("max_concurrent_calls", minimum: 1) { settings.maxConcurrentCalls = value }
        if let value = reader.duration("timeout") { settings.timeout = value }
        if let value = reader.integer("max_calls_per_worker", minimum: 0) { settings.maxCallsPerWorker = value }
        if let value = reader.duration("max_worker_age") { settings.maxWorkerAge = value }
        if let value = reader.duration("drain_timeout") { settings.drainTimeout = value }
        if let value = reader.integer("max_memory_mb", minimum: 16) { settings.maxMemoryMegabytes = value }
        if let value = reader.string("node") { settings.node = value }
        if let isolation = reader.choice("isolation", of: PluginSettings.Isolation.self) { settings.isolation = isolation }
        if let value = reader.stringArray("pass_env") { settings.passEnvironment = value }
        if let env = reader.subtable("env") {
            let envReader = TableReader(table: env, name: "[plugins.env]", log: log)
            for entry in env.entries {
                if let value = envReader.string(entry.key) { settings.environment[entry.key] = value }
            }
        }
        if let permissions = reader.subtable("permissions") {
            let permissionReader = TableReader(table: permissions, name: "[plugins.permissions]", log: log)
            permissionReader.rejectUnknownKeys(known: ["fs_read", "fs_write", "child_process"])
            settings.permissions = PluginPermissions(
                fileSystemRead: (permissionReader.stringArray("fs_read") ?? []).map { ConfigPath.resolve($0, against: directory) },
                fileSystemWrite: (permissionReader.stringArray("fs_write") ?? []).map { ConfigPath.resolve($0, against: directory) },
                childProcess: permissionReader.bool("child_process") ?? false)
        }
        return settings
    }

    private func decodeLimits(_ table: TOMLTable?) -> Limits {
        var limits = Limits()
        guard let table else { return limits }
        let reader = TableReader(table: table, name: "[limits]", log: log)
        reader.rejectUnknownKeys(known: [
            "max_message_bytes", "request_timeout", "initialize_timeout", "shutdown_timeout", "max_in_flight", "max_queued_bytes",
            "input_timeout", "busy_poll_us",
        ])
        if let value = reader.integer("max_message_bytes", minimum: 1024) { limits.maxMessageBytes = value }
        if let value = reader.duration("request_timeout") { limits.requestTimeout = value }
        if let value = reader.duration("initialize_timeout") { limits.initializeTimeout = value }
        if let value = reader.duration("shutdown_timeout") { limits.shutdownTimeout = value }
        if let value = reader.integer("max_in_flight", minimum: 1) { limits.maxInFlightPerUpstream = value }
        if let value = reader.integer("max_queued_bytes", minimum: 1024) { limits.maxQueuedBytes = value }
        if let value = reader.duration("input_timeout") { limits.inputTimeout = value }
        if let value = reader.integer("busy_poll_us", minimum: 0) {
            if value > 1000 { log.add("`busy_poll_us` must be at most 1000", at: reader.entry("busy_poll_us")?.valueLocation) }
            limits.busyPollMicroseconds = value
        }
        return limits
    }

    private func decodeLogging(_ table: TOMLTable?) -> LoggingSettings {
        var logging = LoggingSettings()
        guard let table else { return logging }
        let reader = TableReader(table: table, name: "[log]", log: log)
        reader.rejectUnknownKeys(known: ["level", "format"])
        if let level = reader.choice("level", of: LoggingSettings.Level.self) { logging.level = level }
        if let format = reader.choice("format", of: LoggingSettings.Format.self) { logging.format = format }
        return logging
    }

    private func decodeExposure(_ table: TOMLTable?) -> Exposure {
        var exposure = Exposure()
        guard let table else { return exposure }
        let reader = TableReader(table: table, name: "[expose]", log: log)
        reader.rejectUnknownKeys(known: ["mode", "separator"])
        if let mode = reader.choice("mode", of: Exposure.Mode.self) { exposure.mode = mode }
        if let separator = reader.string("separator") {
            let allowed = separator.unicodeScalars.allSatisfy { $0.isASCII && (isNameCharacter($0) || $0 == ".") }
            if separator.isEmpty || !allowed {
                log.add("`separator` must be one or more of A-Z a-z 0-9 _ . -, found \"\(separator)\"", at: reader.entry("separator")?.valueLocation)
            } else {
                exposure.separator = separator
            }
        }
        return exposure
    }

    private func checkEnabledServers(_ servers: [UpstreamServer], exposure: Exposure) {
        let enabled = servers.filter(\.enabled).map(\.name)
        if enabled.isEmpty && log.isEmpty {
            log.add("\(mainFile): no enabled server; add a [servers.NAME] table with `command` or `url`")
        }
        if exposure.mode == .transparent && enabled.count > 1 {
            let mode = root["expose"]?.tableValue?.entry("mode")
            log.add(
                "`mode = \"transparent\"` needs exactly one enabled server, found \(enabled.count) (\(enabled.joined(separator: ", "))); use \"aggregate\" or disable the others",
                at: mode?.valueLocation)
        }
    }
}

/// Characters allowed in server names: `[A-Za-z0-9_-]`.
func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
    default: false
    }
}
