import HTTP
import TOML

/// Decodes one `[servers.NAME]` table.
struct ServerDecoder {
    let directory: String
    let pluginsDirectory: String
    let limits: Limits
    let separator: String
    let log: ConfigErrorLog
    /// Resolves `${env:…}` and `${file:…}` references, and supplies the proxy variables.
    let references: ValueReferences
    /// `[auth] token_directory`, resolved: where OAuth token files live.
    let tokenDirectory: String

    static let knownKeys = [
        "command", "url", "args", "env", "cwd", "transport", "enabled", "request_timeout",
        "restart_backoff_initial", "restart_backoff_max", "health_check_interval", "health_check_timeout", "protocol", "discover_timeout",
        "tools", "prompts", "resources", "plugins", "headers", "ca_file", "tls_verify", "proxy", "oauth",
    ]

    func decode(_ entry: TOMLTable.Entry) -> UpstreamServer? {
        let name = entry.key
        checkName(name, at: entry.keyLocation)
        guard let table = entry.value.tableValue else {
            log.add("`servers.\(name)` must be a table ([servers.\(name)]), found \(entry.value.typeName)", at: entry.valueLocation)
            return nil
        }
        let reader = TableReader(table: table, name: "[servers.\(name)]", log: log)
        reader.rejectUnknownKeys(known: Self.knownKeys)

        let transport = decodeTransport(reader, name: name)
        var server = UpstreamServer(
            name: name, transport: transport ?? .streamableHTTP(url: ""),
            requestTimeout: limits.requestTimeout)
        if case .streamableHTTP(let url)? = transport { server.remote = decodeRemote(reader, url: url) }
        if case .legacySSE(let url)? = transport { server.remote = decodeRemote(reader, url: url) }
        if let value = reader.bool("enabled") { server.enabled = value }
        if let value = reader.duration("request_timeout") { server.requestTimeout = value }
        if let value = reader.duration("restart_backoff_initial") { server.restartBackoffInitial = value }
        if let value = reader.duration("restart_backoff_max") { server.restartBackoffMax = value }
        if let value = reader.duration("health_check_interval") { server.healthCheckInterval = value }
        if let value = reader.duration("health_check_timeout") { server.healthCheckTimeout = value }
        if let value = reader.duration("discover_timeout") { server.discoverTimeout = value }
        if let value = reader.string("protocol") {
            if value == "auto" {
                server.protocolPreference = .auto
            } else if ProtocolPreference.knownVersions.contains(value) {
                server.protocolPreference = .pinned(value)
            } else {
                log.add(
                    "`protocol` must be \"auto\" or one of \(ProtocolPreference.knownVersions.map { "\"\($0)\"" }.joined(separator: ", ")), found \"\(value)\"",
                    at: reader.entry("protocol")?.valueLocation)
            }
        }
        if server.restartBackoffInitial > server.restartBackoffMax {
            log.add(
                "`restart_backoff_initial` (\(server.restartBackoffInitial)) must not exceed `restart_backoff_max` (\(server.restartBackoffMax))",
                at: reader.entry("restart_backoff_initial")?.valueLocation ?? reader.entry("restart_backoff_max")?.valueLocation)
        }
        server.tools = decodeFilter(reader, "tools", server: name)
        server.prompts = decodeFilter(reader, "prompts", server: name)
        server.resources = decodeFilter(reader, "resources", server: name)
        if let plugins = reader.subtable("plugins") {
            server.plugins = PluginChainDecoder(pluginsDirectory: pluginsDirectory, log: log)
                .decode(plugins, server: name)
        }
        return transport == nil ? nil : server
    }

    private func checkName(_ name: String, at location: TOMLLocation) {
        if name.isEmpty || !name.unicodeScalars.allSatisfy(isNameCharacter) {
            log.add("server name \"\(name)\" may contain only A-Z a-z 0-9 _ -", at: location)
        } else if name.contains(separator) {
            log.add("server name \"\(name)\" must not contain the separator \"\(separator)\" ([expose] separator)", at: location)
        }
    }

    private func decodeTransport(_ reader: TableReader, name: String) -> UpstreamTransport? {
        let command = reader.string("command")
        let url = reader.string("url")
        let transport = reader.string("transport")
        let transportLocation = reader.entry("transport")?.valueLocation
        switch (command, url) {
        case (let command?, nil):
            if let transport, transport != "stdio" {
                log.add("`transport` must be \"stdio\" for a server with `command`, found \"\(transport)\"", at: transportLocation)
            }
            let arguments = reader.stringArray("args") ?? []
            let environment = decodeEnvironment(reader)
            let workingDirectory = reader.string("cwd").map { ConfigPath.resolve($0, against: directory) } ?? directory
            if command.isEmpty {
                log.add("`command` must not be empty", at: reader.entry("command")?.valueLocation)
            }
            // A bare name is looked up on PATH when spawned; a relative path is relative to the config directory.
            let resolved = command.contains("/") ? ConfigPath.resolve(command, against: directory) : command
            return .stdio(command: resolved, arguments: arguments, environment: environment, workingDirectory: workingDirectory)
        case (nil, let url?):
            for key in ["args", "env", "cwd"] where reader.entry(key) != nil {
                if let entry = reader.entry(key) {
                    log.add("`\(key)` applies only to servers started with `command`; [servers.\(name)] uses `url`", at: entry.keyLocation)
                }
            }
            guard let parsed = HTTPURL(url), url.lowercased().hasPrefix(parsed.scheme + "://") else {
                log.add("`url` must be an http:// or https:// URL, found \"\(url)\"", at: reader.entry("url")?.valueLocation)
                return nil
            }
            switch transport ?? "streamable-http" {
            case "streamable-http": return .streamableHTTP(url: url)
            case "sse": return .legacySSE(url: url)
            case let other:
                log.add("`transport` must be \"streamable-http\" or \"sse\" for a server with `url`, found \"\(other)\"", at: transportLocation)
                return nil
            }
        case (.some, .some):
            log.add("[servers.\(name)] sets both `command` and `url`; keep exactly one", at: reader.entry("url")?.keyLocation)
            return nil
        case (nil, nil):
            if reader.entry("command") == nil && reader.entry("url") == nil {
                log.add("[servers.\(name)] needs `command` (to start a process) or `url` (to connect over HTTP)", at: reader.table.location)
            }
            return nil
        }
    }

    /// Headers, TLS checks and the proxy of a server reached over HTTP.
    private func decodeRemote(_ reader: TableReader, url text: String) -> RemoteOptions {
        var options = RemoteOptions()
        guard let url = HTTPURL(text) else { return options }
        if let table = reader.subtable("headers") {
            for entry in table.entries {
                guard let raw = entry.value.stringValue else {
                    log.add("`headers.\(entry.key)` must be a string, found \(entry.value.typeName)", at: entry.valueLocation)
                    continue
                }
                guard entry.key.utf8.allSatisfy(HTTPHeaders.isTokenCharacter), !entry.key.isEmpty else {
                    log.add("`headers.\(entry.key)` is not a valid HTTP header name", at: entry.keyLocation)
                    continue
                }
                if Self.reservedHeaders.contains(entry.key.lowercased()) {
                    log.add("`headers.\(entry.key)` is set by plugboard itself and cannot be configured", at: entry.keyLocation)
                    continue
                }
                let value: String
                do { value = try references.expand(raw) } catch {
                    log.add("`headers.\(entry.key)`: \(error)", at: entry.valueLocation)
                    continue
                }
                guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                    log.add("`headers.\(entry.key)` must not contain line breaks or NUL (after expanding references)", at: entry.valueLocation)
                    continue
                }
                options.headers.append(RemoteHeader(name: entry.key, value: SecretText(value)))
            }
        }
        if let caFile = reader.string("ca_file") {
            let path = ConfigPath.resolve(caFile, against: directory)
            if FileSystem.isRegularFile(path) {
                options.caFile = path
            } else {
                log.add("`ca_file` \"\(path)\" is not a readable file", at: reader.entry("ca_file")?.valueLocation)
            }
        }
        if let verify = reader.bool("tls_verify") { options.tlsVerify = verify }
        if url.scheme == "http" {
            for key in ["ca_file", "tls_verify"] where reader.entry(key) != nil {
                log.add("`\(key)` applies only to https:// servers; \(reader.name) uses http://", at: reader.entry(key)?.keyLocation)
            }
        }
        let setting: (text: String, source: String)?
        if let configured = reader.string("proxy") {
            setting = configured.isEmpty ? nil : (configured, "`proxy`")
        } else {
            setting = ProxySelection.fromEnvironment(for: url, environment: references.environment).map { ($0.setting, $0.source) }
        }
        options.oauth = decodeOAuth(reader, url: url, headers: options.headers)
        if let setting {
            switch ProxySelection.parse(setting.text, source: setting.source) {
            case .success(let proxy): options.proxy = proxy
            case .failure(let error): log.add("\(error)", at: reader.entry("proxy")?.valueLocation ?? reader.entry("url")?.valueLocation)
            }
        }
        return options
    }

    /// `[servers.NAME.oauth]`: how plugboard authorizes itself to the server.
    private func decodeOAuth(_ server: TableReader, url: HTTPURL, headers: [RemoteHeader]) -> OAuthSettings {
        var settings = OAuthSettings(tokenDirectory: tokenDirectory, configDirectory: directory)
        settings.enabled = !headers.contains { $0.name.lowercased() == "authorization" }
        guard let table = server.subtable("oauth") else { return settings }
        let reader = TableReader(table: table, name: "\(server.name.dropLast()).oauth]", log: log)
        reader.rejectUnknownKeys(known: ["client_id", "client_secret", "client_metadata_url", "issuer", "scopes", "grant", "redirect_port"])
        if !settings.enabled {
            log.add("\(reader.name) has no effect: `headers.Authorization` already authorizes plugboard to this server; keep one", at: table.location)
        }
        settings.clientID = reader.string("client_id")
        if let raw = reader.string("client_secret") {
            do { settings.clientSecret = SecretText(try references.expand(raw)) } catch {
                log.add("`client_secret`: \(error)", at: reader.entry("client_secret")?.valueLocation)
            }
            if settings.clientID == nil {
                log.add("`client_secret` needs the `client_id` it belongs to", at: reader.entry("client_secret")?.keyLocation)
            }
        }
        if let text = reader.string("client_metadata_url") {
            if let document = HTTPURL(text), document.scheme == "https", document.path != "/", text.lowercased().hasPrefix("https://") {
                settings.clientMetadataURL = text
            } else {
                log.add(
                    "`client_metadata_url` must be an https:// URL with a path (where plugboard's client metadata document is hosted), found \"\(text)\"",
                    at: reader.entry("client_metadata_url")?.valueLocation)
            }
        }
        if let issuer = reader.string("issuer") {
            if HTTPURL(issuer) == nil {
                log.add("`issuer` must be the authorization server's https:// issuer URL, found \"\(issuer)\"", at: reader.entry("issuer")?.valueLocation)
            }
            settings.issuer = issuer
        }
        if let scopes = reader.stringArray("scopes") {
            if let bad = scopes.first(where: { $0.isEmpty || $0.utf8.contains(where: { $0 <= 0x20 || $0 == 0x22 || $0 == 0x5C || $0 >= 0x7F }) }) {
                log.add("`scopes` entries are single scope tokens (no spaces, quotes or backslashes), found \"\(bad)\"", at: reader.entry("scopes")?.valueLocation)
            }
            settings.scopes = scopes
        }
        if let grant = reader.choice("grant", of: OAuthSettings.Grant.self) { settings.grant = grant }
        if settings.grant == .clientCredentials && (settings.clientID == nil || settings.clientSecret == nil) {
            log.add("`grant = \"client_credentials\"` needs `client_id` and `client_secret`", at: reader.entry("grant")?.valueLocation)
        }
        if let port = reader.integer("redirect_port", minimum: 0) {
            if port > 65535 {
                log.add("`redirect_port` must be a TCP port (0 to 65535), found \(port)", at: reader.entry("redirect_port")?.valueLocation)
            } else {
                settings.redirectPort = port
            }
        }
        return settings
    }

    /// Headers plugboard writes itself on every request to a remote server.
    static let reservedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "content-type", "accept", "mcp-session-id", "mcp-protocol-version",
        "mcp-method", "mcp-name", "last-event-id", "upgrade", "te", "trailer", "keep-alive", "proxy-connection",
    ]

    private func decodeEnvironment(_ reader: TableReader) -> [String: String] {
        guard let table = reader.subtable("env") else { return [:] }
        var environment: [String: String] = [:]
        for entry in table.entries {
            guard let value = entry.value.stringValue else {
                log.add("`env.\(entry.key)` must be a string, found \(entry.value.typeName)", at: entry.valueLocation)
                continue
            }
            environment[entry.key] = value
        }
        return environment
    }

    private func decodeFilter(_ reader: TableReader, _ key: String, server: String) -> NameFilter {
        guard let table = reader.subtable(key) else { return NameFilter() }
        let filterReader = TableReader(table: table, name: "[servers.\(server).\(key)]", log: log)
        filterReader.rejectUnknownKeys(known: ["allow", "deny"])
        return NameFilter(allow: filterReader.globArray("allow") ?? [], deny: filterReader.globArray("deny") ?? [])
    }
}
