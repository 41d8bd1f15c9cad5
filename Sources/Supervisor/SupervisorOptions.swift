import Config
import Network

/// How the supervisor runs, from the command line.
public struct SupervisorOptions: Sendable {
    /// Where SIGUSR1 writes the status dump (atomically), besides stderr.
    public var statusFile: String?
    /// Where the running instance writes its pid, for `plugboard status`.
    public var pidFile: String?
    /// s6-style readiness: a newline is written to this descriptor once serving, then it is closed.
    public var notifyDescriptor: Int32?
    /// Reload on changes under the config and plugins directories.
    public var watch: Bool
    /// Daemon mode: serve clients on this Unix socket instead of stdin/stdout.
    public var listenPath: String?
    /// `--http ADDRESS`: listen for Streamable HTTP here, in place of `[http] listen`.
    public var httpListen: [ListenAddress]?
    /// `--admin ADDRESS`: serve the admin endpoints here, in place of `[admin] listen`.
    public var adminListen: ListenAddress?

    public init(
        statusFile: String? = nil, pidFile: String? = nil, notifyDescriptor: Int32? = nil, watch: Bool = true, listenPath: String? = nil,
        httpListen: [ListenAddress]? = nil, adminListen: ListenAddress? = nil
    ) {
        self.listenPath = listenPath
        self.httpListen = httpListen
        self.adminListen = adminListen
        self.statusFile = statusFile
        self.pidFile = pidFile
        self.notifyDescriptor = notifyDescriptor
        self.watch = watch
    }
}

extension SupervisorOptions {
    /// `[http]` with `--http` applied.
    func effectiveHTTP(_ config: PlugboardConfig) -> HTTPSettings {
        var http = config.http
        if let httpListen { http.listen = httpListen }
        return http
    }

    /// `[admin] listen`, or `--admin`.
    func effectiveAdminAddress(_ config: PlugboardConfig) -> ListenAddress? { adminListen ?? config.admin.listen }

    /// Every socket `plugboard run` listens on with these options.
    func listenEndpoints(_ config: PlugboardConfig) -> [InheritedListeners.Endpoint] {
        let http = effectiveHTTP(config)
        return (http.listen + http.tlsListen).map { .http($0) }
            + (effectiveAdminAddress(config).map { [.admin($0)] } ?? [])
            + (listenPath.map { [.unix(path: $0)] } ?? [])
    }

    /// Whether the client comes over stdin and stdout.
    public func servesStdio(_ config: PlugboardConfig) -> Bool {
        let http = effectiveHTTP(config)
        return listenPath == nil && (!http.isEnabled || http.alsoStdio)
    }
}
