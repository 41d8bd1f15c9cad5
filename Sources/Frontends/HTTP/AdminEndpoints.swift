import Config
import HTTP
import IO
import JSON
import Logging
import Network

/// `/healthz`, `/readyz`, `/metrics` and `/status`: what load balancers, Prometheus and
/// operators ask of a running plugboard. The supervisor supplies the answers.
public final class AdminEndpoints {
    public struct Readiness {
        public var isReady: Bool
        /// Why not, or what is ready.
        public var detail: String
        public init(isReady: Bool, detail: String) {
            self.isReady = isReady
            self.detail = detail
        }
    }

    private let readiness: () -> Readiness
    private let metrics: () -> String
    private let status: () -> JSONObject
    private var server: HTTPServer?

    public init(readiness: @escaping () -> Readiness, metrics: @escaping () -> String, status: @escaping () -> JSONObject) {
        self.readiness = readiness
        self.metrics = metrics
        self.status = status
    }

    static let paths: Set<String> = ["/healthz", "/readyz", "/metrics", "/status"]

    public func serves(path: String) -> Bool { Self.paths.contains(path) }

    /// Probes stay open to load balancers; what reveals the configuration needs the token.
    func requiresToken(path: String) -> Bool { path == "/metrics" || path == "/status" }

    public func handle(_ exchange: HTTPExchange) {
        let head = exchange.request.head
        guard head.method == "GET" || head.method == "HEAD" else {
            var headers = HTTPHeaders()
            headers.set("Allow", "GET, HEAD")
            return reply(exchange, status: 405, type: "text/plain; charset=utf-8", "use GET\n", headers: headers)
        }
        switch head.path {
        case "/healthz":
            reply(exchange, status: 200, type: "text/plain; charset=utf-8", "ok\n")
        case "/readyz":
            let state = readiness()
            reply(exchange, status: state.isReady ? 200 : 503, type: "text/plain; charset=utf-8", "\(state.isReady ? "ready" : "not ready"): \(state.detail)\n")
        case "/metrics":
            reply(exchange, status: 200, type: "text/plain; version=0.0.4; charset=utf-8", metrics())
        case "/status":
            reply(exchange, status: 200, type: "application/json", JSONValue.object(status()).serializedString + "\n")
        default:
            reply(exchange, status: 404, type: "text/plain; charset=utf-8", "not found; try /healthz, /readyz, /metrics or /status\n")
        }
    }

    private func reply(_ exchange: HTTPExchange, status: Int, type: String, _ body: String, headers: HTTPHeaders = HTTPHeaders()) {
        var headers = headers
        headers.set("Content-Type", type)
        headers.set("Cache-Control", "no-store")
        exchange.respond(status: status, headers: headers, body: Array(body.utf8))
    }

    /// Serves the endpoints on an address of their own (`[admin] listen`), or on `inherited`, a
    /// socket already listening there.
    public func listen(on address: ListenAddress, inherited: Int32? = nil, loop: EventLoop, log: Logger) throws(SocketError) -> ListenAddress {
        let settings = HTTPServer.Settings(
            limits: HTTPLimits(), maxConnections: 64, headerTimeout: 10_000_000_000, idleTimeout: 60_000_000_000,
            writeTimeout: 30_000_000_000, maxQueuedBytes: 16 << 20)
        let server = server ?? HTTPServer(loop: loop, settings: settings, log: log.tagged("admin")) { [unowned self] in handle($0) }
        self.server = server
        let bound = try server.listen(on: address, inherited: inherited)
        let host = bound.family == .ipv6 ? "[\(bound.host)]" : bound.host
        log.info("admin listening on http://\(host):\(bound.port) (/healthz /readyz /metrics /status)")
        return bound
    }

    public func close() {
        server?.close()
    }
}
