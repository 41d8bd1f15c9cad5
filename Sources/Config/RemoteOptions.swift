import HTTP

/// How plugboard reaches a remote (`url`) server: headers it sends, TLS checks, a forward proxy.
public struct RemoteOptions: Sendable, Equatable {
    /// Sent on every request (`headers`); values are secrets, whatever they hold.
    public var headers: [RemoteHeader]
    /// PEM certificate authorities trusted instead of the system store (`ca_file`).
    public var caFile: String?
    /// Whether the server's certificate is verified (`tls_verify`, default true).
    public var tlsVerify: Bool
    /// The forward proxy in effect, from `proxy` or the environment; nil: connect directly.
    public var proxy: ProxyEndpoint?
    /// OAuth 2.1 toward this server (`[servers.NAME.oauth]` and `[auth]`).
    public var oauth: OAuthSettings

    public init(
        headers: [RemoteHeader] = [], caFile: String? = nil, tlsVerify: Bool = true, proxy: ProxyEndpoint? = nil,
        oauth: OAuthSettings = OAuthSettings()
    ) {
        self.headers = headers
        self.caFile = caFile
        self.tlsVerify = tlsVerify
        self.proxy = proxy
        self.oauth = oauth
    }
}

public struct RemoteHeader: Sendable, Equatable {
    public var name: String
    public var value: SecretText

    public init(name: String, value: SecretText) {
        self.name = name
        self.value = value
    }
}

/// A forward proxy, and where its setting came from (`proxy`, `HTTPS_PROXY`, …) for messages.
public struct ProxyEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var source: String

    public init(host: String, port: Int, source: String) {
        self.host = host
        self.port = port
        self.source = source
    }

    public var description: String { "\(host.contains(":") ? "[\(host)]" : host):\(port) (from \(source))" }
}

/// Picks a remote server's proxy the way curl and most HTTP clients do.
enum ProxySelection {
    /// The `HTTPS_PROXY`/`HTTP_PROXY` (lower case first) for `url`'s scheme, unless `NO_PROXY` matches its host.
    static func fromEnvironment(for url: HTTPURL, environment: (String) -> String?) -> (setting: String, source: String)? {
        let names = url.scheme == "https" ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
        var found: (name: String, value: String)?
        for name in names {
            if let value = environment(name), !value.isEmpty {
                found = (name, value)
                break
            }
        }
        guard let (name, value) = found else { return nil }
        let exclusions = environment("no_proxy") ?? environment("NO_PROXY") ?? ""
        if excludes(exclusions, host: url.host, port: url.port) { return nil }
        return (value, name)
    }

    /// Whether a `NO_PROXY` list names the host: `*`, the host itself, or a domain it is under
    /// (`example.com` and `.example.com` both cover `api.example.com`), optionally with `:port`.
    static func excludes(_ list: String, host: String, port: Int) -> Bool {
        let host = host.lowercased()
        for raw in list.split(separator: ",") {
            var entry = raw.trimmingSpaces.lowercased()
            if entry == "*" { return true }
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]"), entry.filter({ $0 == ":" }).count == 1 {
                guard Int(entry[entry.index(after: colon)...]) == port else { continue }
                entry = String(entry[..<colon])
            }
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.hasPrefix("*.") { entry.removeFirst(2) }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// A proxy setting: `http://host:port` or `host:port`.
    static func parse(_ setting: String, source: String) -> Result<ProxyEndpoint, ProxySettingError> {
        let text = setting.contains("://") ? setting : "http://" + setting
        if text.hasPrefix("https://") {
            return .failure(ProxySettingError("\(source) names an https:// proxy; plugboard speaks to proxies in plain http (tunnelling https with CONNECT)"))
        }
        guard let url = HTTPURL(text), url.scheme == "http" else {
            return .failure(ProxySettingError("\(source) must be a proxy URL like http://proxy.example:3128 (credentials in the URL are not supported)"))
        }
        return .success(ProxyEndpoint(host: url.host, port: url.port, source: source))
    }
}

struct ProxySettingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

extension RemoteOptions {
    /// Whether a `NO_PROXY` list covers `host:port`.
    public static func proxyExcluded(byNoProxy list: String, host: String, port: Int) -> Bool {
        ProxySelection.excludes(list, host: host, port: port)
    }
}
