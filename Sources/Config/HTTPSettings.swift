/// A TCP address to listen on: an IPv4 or bracketed IPv6 literal and a port (`0`: any free port).
public struct ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Equatable, Hashable { case ipv4, ipv6 }
    public var host: String
    public var port: Int
    public var family: Family

    public init(host: String, port: Int, family: Family) {
        self.host = host
        self.port = port
        self.family = family
    }

    /// Parses `127.0.0.1:8080`, `[::1]:8080` or `localhost:8080` (IPv4 loopback).
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            self.init(host: host, port: port, family: .ipv6)
        } else {
            if host == "localhost" { host = "127.0.0.1" }
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ part in part.count <= 3 && UInt8(part) != nil }) else { return nil }
            self.init(host: host, port: port, family: .ipv4)
        }
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether only this machine can reach the address.
    public var isLoopback: Bool { family == .ipv6 ? host == "::1" : host.hasPrefix("127.") }
}

/// Where the bearer token that HTTP clients must present comes from. Never the TOML itself.
public enum BearerTokenSource: Sendable, Equatable {
    case environment(String)
    case file(String)
}

/// `[http]`: the Streamable HTTP frontend.
public struct HTTPSettings: Sendable, Equatable {
    /// Addresses to listen on in plain HTTP (`listen`).
    public var listen: [ListenAddress]
    /// Addresses to listen on in HTTPS (`tls_listen`), with `tlsCertificate`.
    public var tlsListen: [ListenAddress] = []
    /// The certificate chain and key HTTPS listeners present (`tls_cert_file`, `tls_key_file`).
    public var tlsCertificate: TLSCertificatePaths?
    /// `Host` values accepted besides localhost, 127.0.0.1 and [::1] (`allowed_hosts`; `*` allows any).
    /// Checked when every listener is on loopback, or when this is set.
    public var allowedHosts: [String] = []
    /// The MCP endpoint's path (`path`, default `/mcp`).
    public var path: String
    /// Whether stdin/stdout also carries a client when HTTP is on (`stdio`, default false).
    public var alsoStdio: Bool
    /// Origins allowed besides localhost, 127.0.0.1 and [::1] on any port (`allowed_origins`).
    public var allowedOrigins: [String]
    public var bearerToken: BearerTokenSource?
    public var sessionIdleTimeout: TimeSpan
    public var maxSessions: Int
    public var maxConnections: Int
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    /// Largest request body; by default `[limits] max_message_bytes`.
    public var maxBodyBytes: Int?
    /// How long a client may take to send a whole request head (slow-loris guard).
    public var headerTimeout: TimeSpan
    /// How long a keep-alive connection may sit idle between requests.
    public var idleTimeout: TimeSpan
    /// How long a response may wait for a client that does not read.
    public var writeTimeout: TimeSpan
    /// Events kept per SSE stream for `Last-Event-ID` resumption.
    public var replayEvents: Int
    /// Period of SSE keep-alive comments on idle streams.
    public var keepAliveInterval: TimeSpan

    public init(
        listen: [ListenAddress] = [], path: String = "/mcp", alsoStdio: Bool = false, allowedOrigins: [String] = [],
        bearerToken: BearerTokenSource? = nil, sessionIdleTimeout: TimeSpan = .seconds(1800), maxSessions: Int = 1000,
        maxConnections: Int = 1024, maxHeaderBytes: Int = 16384, maxHeaderCount: Int = 100, maxBodyBytes: Int? = nil,
        headerTimeout: TimeSpan = .seconds(10), idleTimeout: TimeSpan = .seconds(75), writeTimeout: TimeSpan = .seconds(30),
        replayEvents: Int = 1024, keepAliveInterval: TimeSpan = .seconds(15)
    ) {
        self.listen = listen
        self.path = path
        self.alsoStdio = alsoStdio
        self.allowedOrigins = allowedOrigins
        self.bearerToken = bearerToken
        self.sessionIdleTimeout = sessionIdleTimeout
        self.maxSessions = maxSessions
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.replayEvents = replayEvents
        self.keepAliveInterval = keepAliveInterval
    }

    public var isEnabled: Bool { !listen.isEmpty || !tlsListen.isEmpty }
}

/// `[admin]`: health, readiness, metrics and status endpoints on a separate address.
public struct AdminSettings: Sendable, Equatable {
    /// Where `/healthz`, `/readyz`, `/metrics` and `/status` are served; nil: on the `[http]` listener.
    public var listen: ListenAddress?
    public init(listen: ListenAddress? = nil) { self.listen = listen }
}

/// The PEM files an HTTPS listener serves, reloaded when they change.
public struct TLSCertificatePaths: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// `[core]`: the proxy core as a supervised child of plugboard's outer process.
public struct CoreSettings: Sendable, Equatable {
    /// Run the core as a child process that is replaced when it crashes or hangs (true), or
    /// everything in one process (false). Unset, the core is a child when no client comes over
    /// stdio: HTTP and Unix-socket clients reach it on sockets it inherits, with no hop, while a
    /// stdio client's messages would be relayed through the outer process.
    public var isolate: Bool?
    /// How often the outer process pings the core over their control channel.
    public var healthCheckInterval: TimeSpan
    /// How long a ping may go unanswered before the core counts as hung and is replaced.
    public var healthCheckTimeout: TimeSpan
    /// The core's resident memory cap in MiB; 0: none.
    public var maxMemoryMegabytes: Int
    /// Restart backoff: doubled after each failure from the first value up to the second.
    public var restartBackoffInitial: TimeSpan
    public var restartBackoffMax: TimeSpan

    public init(
        isolate: Bool? = nil, healthCheckInterval: TimeSpan = .seconds(1), healthCheckTimeout: TimeSpan = .seconds(3),
        maxMemoryMegabytes: Int = 0, restartBackoffInitial: TimeSpan = .milliseconds(100), restartBackoffMax: TimeSpan = .seconds(10)
    ) {
        self.isolate = isolate
        self.healthCheckInterval = healthCheckInterval
        self.healthCheckTimeout = healthCheckTimeout
        self.maxMemoryMegabytes = maxMemoryMegabytes
        self.restartBackoffInitial = restartBackoffInitial
        self.restartBackoffMax = restartBackoffMax
    }

    /// Whether the core runs as a child, given whether a client comes over stdio.
    public func isolates(servingStdio: Bool) -> Bool { isolate ?? !servingStdio }
}
