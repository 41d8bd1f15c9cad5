import TOML

extension ConfigDecoder {
    func decodeHTTP(_ table: TOMLTable?) -> HTTPSettings {
        var settings = HTTPSettings()
        guard let table else { return settings }
        let reader = TableReader(table: table, name: "[http]", log: log)
        reader.rejectUnknownKeys(known: [
            "listen", "path", "stdio", "allowed_origins", "auth_token_env", "auth_token_file", "session_idle_timeout",
            "max_sessions", "max_connections", "max_header_bytes", "max_header_count", "max_body_bytes", "header_timeout",
            "idle_timeout", "write_timeout", "sse_replay_events", "sse_keepalive", "tls_listen", "tls_cert_file", "tls_key_file",
            "allowed_hosts",
        ])
        settings.listen = listenAddresses(reader, key: "listen")
        settings.tlsListen = listenAddresses(reader, key: "tls_listen")
        let certificate = reader.string("tls_cert_file").map { ConfigPath.resolve($0, against: directory) }
        let key = reader.string("tls_key_file").map { ConfigPath.resolve($0, against: directory) }
        switch (certificate, key) {
        case (let certificate?, let key?):
            settings.tlsCertificate = TLSCertificatePaths(certificateFile: certificate, keyFile: key)
            for (name, path) in [("tls_cert_file", certificate), ("tls_key_file", key)] where !FileSystem.isRegularFile(path) {
                log.add("`\(name)` \"\(path)\" is not a readable file", at: reader.entry(name)?.valueLocation)
            }
            if settings.tlsListen.isEmpty {
                log.add("`tls_cert_file` is set but `tls_listen` names no address to serve TLS on", at: reader.entry("tls_cert_file")?.keyLocation)
            }
        case (nil, nil):
            if !settings.tlsListen.isEmpty {
                log.add("`tls_listen` needs `tls_cert_file` and `tls_key_file`", at: reader.entry("tls_listen")?.keyLocation)
            }
        default:
            log.add("set both `tls_cert_file` and `tls_key_file`", at: (reader.entry("tls_cert_file") ?? reader.entry("tls_key_file"))?.keyLocation)
        }
        if let hosts = reader.stringArray("allowed_hosts") { settings.allowedHosts = hosts }
        if let path = reader.string("path") {
            if path.hasPrefix("/") && !path.contains("?") && !path.contains(" ") {
                settings.path = path
            } else {
                log.add("`path` must start with \"/\" and hold no query or spaces, found \"\(path)\"", at: reader.entry("path")?.valueLocation)
            }
        }
        if let value = reader.bool("stdio") { settings.alsoStdio = value }
        if let origins = reader.stringArray("allowed_origins") { settings.allowedOrigins = origins }
        let environment = reader.string("auth_token_env")
        let file = reader.string("auth_token_file")
        switch (environment, file) {
        case (let name?, nil): settings.bearerToken = .environment(name)
        case (nil, let path?): settings.bearerToken = .file(ConfigPath.resolve(path, against: directory))
        case (_?, _?): log.add("set only one of `auth_token_env` and `auth_token_file`", at: reader.entry("auth_token_file")?.keyLocation)
        case (nil, nil): break
        }
        if let value = reader.duration("session_idle_timeout") { settings.sessionIdleTimeout = value }
        if let value = reader.integer("max_sessions", minimum: 1) { settings.maxSessions = value }
        if let value = reader.integer("max_connections", minimum: 1) { settings.maxConnections = value }
        if let value = reader.integer("max_header_bytes", minimum: 1024) { settings.maxHeaderBytes = value }
        if let value = reader.integer("max_header_count", minimum: 8) { settings.maxHeaderCount = value }
        if let value = reader.integer("max_body_bytes", minimum: 1024) { settings.maxBodyBytes = value }
        if let value = reader.duration("header_timeout") { settings.headerTimeout = value }
        if let value = reader.duration("idle_timeout") { settings.idleTimeout = value }
        if let value = reader.duration("write_timeout") { settings.writeTimeout = value }
        if let value = reader.integer("sse_replay_events", minimum: 0) { settings.replayEvents = value }
        if let value = reader.duration("sse_keepalive") { settings.keepAliveInterval = value }
        return settings
    }

    func decodeCore(_ table: TOMLTable?) -> CoreSettings {
        var settings = CoreSettings()
        guard let table else { return settings }
        let reader = TableReader(table: table, name: "[core]", log: log)
        reader.rejectUnknownKeys(known: [
            "isolate", "health_check_interval", "health_check_timeout", "max_memory_mb", "restart_backoff_initial", "restart_backoff_max",
        ])
        if let value = reader.bool("isolate") { settings.isolate = value }
        if let value = reader.duration("health_check_interval") { settings.healthCheckInterval = value }
        if let value = reader.duration("health_check_timeout") { settings.healthCheckTimeout = value }
        if let value = reader.integer("max_memory_mb", minimum: 0) { settings.maxMemoryMegabytes = value }
        if let value = reader.duration("restart_backoff_initial") { settings.restartBackoffInitial = value }
        if let value = reader.duration("restart_backoff_max") { settings.restartBackoffMax = value }
        for key in ["health_check_interval", "health_check_timeout"] {
            let value = key == "health_check_interval" ? settings.healthCheckInterval : settings.healthCheckTimeout
            if value.milliseconds < 10 { log.add("`\(key)` must be at least 10ms", at: reader.entry(key)?.valueLocation) }
        }
        return settings
    }

    func decodeAdmin(_ table: TOMLTable?) -> AdminSettings {
        var settings = AdminSettings()
        guard let table else { return settings }
        let reader = TableReader(table: table, name: "[admin]", log: log)
        reader.rejectUnknownKeys(known: ["listen"])
        if let text = reader.string("listen") {
            if let address = ListenAddress(parsing: text) {
                settings.listen = address
            } else {
                log.add(Self.badAddress(text), at: reader.entry("listen")?.valueLocation)
            }
        }
        return settings
    }

    /// `listen` as one address string or an array of them.
    private func listenAddresses(_ reader: TableReader, key: String) -> [ListenAddress] {
        guard let entry = reader.entry(key) else { return [] }
        let texts: [String]
        if entry.value.stringValue != nil {
            texts = [reader.string(key)!]
        } else {
            texts = reader.stringArray(key) ?? []
        }
        var addresses: [ListenAddress] = []
        for (index, text) in texts.enumerated() {
            guard let address = ListenAddress(parsing: text) else {
                log.add(Self.badAddress(text), at: entry.value.arrayValue?.location(at: index) ?? entry.valueLocation)
                continue
            }
            addresses.append(address)
        }
        return addresses
    }

    static func badAddress(_ text: String) -> String {
        "`listen` must be HOST:PORT with an IPv4 address, [IPv6] or localhost (e.g. \"127.0.0.1:8080\", \"[::1]:8080\"), found \"\(text)\""
    }
}
