import Config
import HTTP
import IO
import Logging
import Network

/// The login's redirect URI: an HTTP listener on 127.0.0.1 (RFC 8252 §7.3) that takes the
/// authorization server's redirect to `/callback` and shows the person a page saying how it went.
public final class LoopbackRedirect: @unchecked Sendable {
    // Confined to `loop`: every member below is touched only on its thread.
    private let loop: EventLoop
    private let server: HTTPServer
    private var waiter: ((String) -> Result<String, OAuthError>?, CheckedContinuation<Result<String, OAuthError>, Never>)?
    private var timer: EventLoop.TimerID?
    public let port: Int
    public var redirectURI: String { "http://127.0.0.1:\(port)/callback" }

    private init(loop: EventLoop, server: HTTPServer, port: Int) {
        self.loop = loop
        self.server = server
        self.port = port
    }

    /// Listens on 127.0.0.1:`port` (0: a free one).
    public static func start(loop: EventLoop, port: Int, log: Logger) async throws(OAuthError) -> LoopbackRedirect {
        let result: Result<LoopbackRedirect, OAuthError> = await withCheckedContinuation { continuation in
            loop.execute {
                let settings = HTTPServer.Settings(
                    limits: HTTPLimits(), maxConnections: 8, headerTimeout: 10_000_000_000, idleTimeout: 30_000_000_000,
                    writeTimeout: 10_000_000_000, maxQueuedBytes: 1 << 20)
                var redirect: LoopbackRedirect?
                let server = HTTPServer(loop: loop, settings: settings, log: log) { exchange in redirect?.handle(exchange) }
                do {
                    let address = try server.listen(on: ListenAddress(host: "127.0.0.1", port: port, family: .ipv4))
                    redirect = LoopbackRedirect(loop: loop, server: server, port: address.port)
                    continuation.resume(returning: .success(redirect!))
                } catch {
                    continuation.resume(
                        returning: .failure(.unsupported("cannot listen for the redirect on 127.0.0.1:\(port): \(error)\(port != 0 ? " (is the port in use? pick another with --redirect-port)" : "")")))
                }
            }
        }
        return try result.get()
    }

    /// The first redirect whose query `accept` does not ignore (nil: ignore it, for a stale or
    /// forged one), answered with a page; or a timeout.
    public func callback(timeoutSeconds: Double, accept: @escaping @Sendable (String) -> Result<String, OAuthError>?) async -> Result<String, OAuthError> {
        await withCheckedContinuation { continuation in
            loop.execute { [self] in
                waiter = (accept, continuation)
                timer = loop.schedule(afterNanoseconds: UInt64(timeoutSeconds * 1e9)) { [self] in
                    finish(.failure(.timedOut("no redirect arrived within \(Int(timeoutSeconds)) s; run the login again")))
                }
            }
        }
    }

    public func close() {
        loop.execute { [self] in
            server.close()
            if let timer { loop.cancelTimer(timer) }
        }
    }

    private func handle(_ exchange: HTTPExchange) {
        guard exchange.request.head.method == "GET", exchange.request.head.path == "/callback" else {
            return exchange.respond(status: 404, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array("Not found\n".utf8))
        }
        guard let (accept, _) = waiter else {
            return page(exchange, status: 409, "This login is not waiting for a redirect any more.")
        }
        switch accept(exchange.request.head.query ?? "") {
        case nil:
            page(exchange, status: 400, "This redirect does not belong to the login in progress (its state does not match), so it was ignored.")
        case .success(let code)?:
            page(exchange, status: 200, "plugboard is authorized. You can close this window.")
            finish(.success(code))
        case .failure(let error)?:
            page(exchange, status: 400, "Authorization failed: \(error)")
            finish(.failure(error))
        }
    }

    private func page(_ exchange: HTTPExchange, status: Int, _ text: String) {
        let escaped = text.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;")
        let html = "<!doctype html><meta charset=utf-8><title>plugboard</title><p>\(escaped)</p>\n"
        exchange.respond(
            status: status, headers: ["Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"],
            body: Array(html.utf8))
    }

    private func finish(_ result: Result<String, OAuthError>) {
        guard let (_, continuation) = waiter else { return }
        waiter = nil
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        continuation.resume(returning: result)
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
