import Config
import HTTP
import IO
import Logging
import Network
import TLS

/// What the HTTP links share about the server they reach: its URL, checked, a keep-alive client
/// for its origin (over TLS and through a proxy as configured), and the headers every request carries.
struct RemoteEndpoint {
    let url: HTTPURL
    let client: HTTPClient
    private let headers: [RemoteHeader]

    /// Checks the URL and sets up TLS; a failure says what to fix.
    static func open(_ text: String, options: RemoteOptions, limits: Limits, loop: EventLoop, log: Logger) -> Result<RemoteEndpoint, RemoteEndpointError> {
        guard let url = HTTPURL(text) else { return .failure(RemoteEndpointError(description: "not a usable http:// or https:// URL: \(text)")) }
        var route = HTTPClientRoute()
        if url.scheme == "https" {
            if !options.tlsVerify {
                log.warning("TLS certificate verification is OFF for \(url.host):\(url.port) (tls_verify = false): anyone on the path can impersonate this server")
            }
            do {
                route.tls = try TLSContext.client(TLSClientSettings(caFile: options.caFile, verify: options.tlsVerify))
            } catch {
                return .failure(RemoteEndpointError(description: "cannot set up TLS for \(url.host):\(url.port): \(error)"))
            }
        }
        if let proxy = options.proxy {
            route.proxy = HTTPProxy(host: proxy.host, port: proxy.port, source: proxy.source)
            log.info("reaching the server through a proxy", ["proxy": "\(proxy)"])
        }
        var httpLimits = HTTPLimits()
        httpLimits.maxBodyBytes = limits.maxMessageBytes
        let client = HTTPClient(host: url.host, port: url.port, route: route, loop: loop, log: log, limits: httpLimits)
        return .success(RemoteEndpoint(url: url, client: client, headers: options.headers))
    }

    /// A request head for `target` (the URL's own path by default) with the configured headers.
    func head(_ method: String, target: String? = nil) -> HTTPRequestHead {
        var head = HTTPRequestHead(method: method, target: target ?? url.pathAndQuery, version: .http1_1, headers: HTTPHeaders())
        for header in headers { head.headers.add(header.name, header.value.revealed) }
        return head
    }
}

struct RemoteEndpointError: Error, CustomStringConvertible {
    let description: String
}
