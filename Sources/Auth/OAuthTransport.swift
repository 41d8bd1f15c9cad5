import Config
import HTTP
import IO
import Logging
import Network
import TLS

public struct OAuthHTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Done at the response head: for an event stream, which may never end.
    public var headOnly: Bool

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], headOnly: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.headOnly = headOnly
    }

    /// A form POST (`application/x-www-form-urlencoded`), as token, revocation and registration-less endpoints take.
    public static func form(_ url: String, _ fields: [(String, String)], headers: [(String, String)] = []) -> OAuthHTTPRequest {
        OAuthHTTPRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")] + headers,
            body: Array(FormEncoding.encode(fields).utf8))
    }
}

public struct OAuthHTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How OAuth requests reach servers; tests put a scripted one in its place.
public protocol OAuthTransport: Sendable {
    func perform(_ request: OAuthHTTPRequest) async throws(OAuthError) -> OAuthHTTPResponse
}

/// OAuth requests over plugboard's own HTTP client on an event loop, with the server's TLS
/// settings and proxy, a deadline, and a cap on the answer's size. Redirects are not followed.
public struct LoopTransport: OAuthTransport {
    let loop: EventLoop
    let tls: TLSClientSettings
    let proxy: ProxyEndpoint?
    let log: Logger
    let timeoutNanoseconds: UInt64
    let maxBodyBytes: Int

    public init(loop: EventLoop, options: RemoteOptions, log: Logger, timeoutNanoseconds: UInt64 = 30_000_000_000, maxBodyBytes: Int = 1 << 20) {
        self.loop = loop
        self.tls = TLSClientSettings(caFile: options.caFile, verify: options.tlsVerify)
        self.proxy = options.proxy
        self.log = log
        self.timeoutNanoseconds = timeoutNanoseconds
        self.maxBodyBytes = maxBodyBytes
    }

    public func perform(_ request: OAuthHTTPRequest) async throws(OAuthError) -> OAuthHTTPResponse {
        guard let url = HTTPURL(request.url) else { throw .unreachable(url: request.url, reason: "not an http(s) URL") }
        var route = HTTPClientRoute()
        if url.scheme == "https" {
            do { route.tls = try TLSContext.client(tls) } catch { throw .unreachable(url: request.url, reason: "TLS setup failed: \(error)") }
        }
        if let proxy { route.proxy = HTTPProxy(host: proxy.host, port: proxy.port, source: proxy.source) }
        let settled = route
        let result: Result<OAuthHTTPResponse, OAuthError> = await withCheckedContinuation { continuation in
            loop.execute { [self] in
                let exchange = Exchange(continuation: continuation, url: request.url, maxBodyBytes: maxBodyBytes, headOnly: request.headOnly)
                var limits = HTTPLimits()
                limits.maxBodyBytes = maxBodyBytes
                let client = HTTPClient(host: url.host, port: url.port, route: settled, loop: loop, log: log, limits: limits, maxConnections: 1)
                exchange.client = client
                var head = HTTPRequestHead(method: request.method, target: url.pathAndQuery)
                head.headers.set("User-Agent", "plugboard")
                for (name, value) in request.headers { head.headers.set(name, value) }
                exchange.timer = loop.schedule(afterNanoseconds: timeoutNanoseconds) { [timeoutNanoseconds] in
                    exchange.finish(.failure(.unreachable(url: request.url, reason: "no answer within \(timeoutNanoseconds / 1_000_000_000) s")))
                }
                client.send(head, body: request.body) { event in exchange.handle(event, loop: loop) }
            }
        }
        return try result.get()
    }

    /// One request's answer as it arrives; resumes its caller exactly once.
    private final class Exchange {
        let continuation: CheckedContinuation<Result<OAuthHTTPResponse, OAuthError>, Never>
        let url: String
        let maxBodyBytes: Int
        let headOnly: Bool
        var client: HTTPClient?
        var timer: EventLoop.TimerID?
        var response = OAuthHTTPResponse(status: 0)
        var done = false

        init(continuation: CheckedContinuation<Result<OAuthHTTPResponse, OAuthError>, Never>, url: String, maxBodyBytes: Int, headOnly: Bool) {
            self.continuation = continuation
            self.url = url
            self.maxBodyBytes = maxBodyBytes
            self.headOnly = headOnly
        }

        func handle(_ event: HTTPClientEvent, loop: EventLoop) {
            switch event {
            case .head(let head):
                response.status = head.status
                response.headers = head.headers
                if headOnly {
                    if let timer { loop.cancelTimer(timer) }
                    finish(.success(response))
                }
            case .body(let bytes):
                response.body += bytes
                if response.body.count > maxBodyBytes { finish(.failure(.unreachable(url: url, reason: "the answer exceeds \(maxBodyBytes) bytes"))) }
            case .end:
                if let timer { loop.cancelTimer(timer) }
                finish(.success(response))
            case .failed(let reason):
                if let timer { loop.cancelTimer(timer) }
                finish(.failure(.unreachable(url: url, reason: reason)))
            }
        }

        func finish(_ result: Result<OAuthHTTPResponse, OAuthError>) {
            guard !done else { return }
            done = true
            client?.close()
            client = nil
            continuation.resume(returning: result)
        }
    }
}
