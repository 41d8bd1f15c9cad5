import Dispatch
import Glibc
import HTTP
import IO
import Logging
import TLS

/// What a client request hears back, in order: a head, body pieces as they arrive (so an SSE
/// response can be read while it lasts), then the end, or a failure at any point.
public enum HTTPClientEvent {
    case head(HTTPResponseHead)
    case body([UInt8])
    case end
    case failed(String)
}

/// A request in progress; `cancel()` drops its connection.
public final class HTTPClientRequest {
    fileprivate weak var connection: HTTPClientConnection?
    fileprivate var cancelled = false
    public func cancel() {
        cancelled = true
        connection?.close(reason: "cancelled")
    }
}

/// A forward proxy that remote upstreams are reached through: `CONNECT` tunnels for https,
/// absolute-form requests for plain http.
public struct HTTPProxy: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Where the setting came from (`proxy`, `HTTPS_PROXY`, …), for messages.
    public var source: String?

    public init(host: String, port: Int, source: String? = nil) {
        self.host = host
        self.port = port
        self.source = source
    }

    public var description: String { "http://\(host.bracketedIfIPv6):\(port)" + (source.map { " (from \($0))" } ?? "") }
}

/// How an `HTTPClient` reaches its origin: over TLS or not, directly or through a proxy.
public struct HTTPClientRoute: Sendable {
    public var tls: TLSContext?
    public var proxy: HTTPProxy?

    public init(tls: TLSContext? = nil, proxy: HTTPProxy? = nil) {
        self.tls = tls
        self.proxy = proxy
    }
}

/// An HTTP/1.1 client for one origin on the event loop: up to `maxConnections` keep-alive
/// connections, one request at a time on each, requests beyond that wait in order.
public final class HTTPClient {
    public let host: String
    public let port: Int
    private let route: HTTPClientRoute
    private let loop: EventLoop
    private let log: Logger
    private let limits: HTTPLimits
    private let maxConnections: Int
    private let connectTimeout: UInt64
    private var idle: [HTTPClientConnection] = []
    private var busy: [ObjectIdentifier: HTTPClientConnection] = [:]
    private var waiting: [(HTTPRequestHead, [UInt8], HTTPClientRequest, (HTTPClientEvent) -> Void)] = []
    private var closed = false

    public init(
        host: String, port: Int, route: HTTPClientRoute = HTTPClientRoute(), loop: EventLoop, log: Logger, limits: HTTPLimits = HTTPLimits(),
        maxConnections: Int = 8, connectTimeout: UInt64 = 10_000_000_000
    ) {
        self.host = host
        self.port = port
        self.route = route
        self.loop = loop
        self.log = log
        self.limits = limits
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
    }

    private var defaultPort: Int { route.tls == nil ? 80 : 443 }

    /// Sends `head` (Host and Content-Length are filled in) with `body`.
    @discardableResult
    public func send(_ head: HTTPRequestHead, body: [UInt8] = [], handler: @escaping (HTTPClientEvent) -> Void) -> HTTPClientRequest {
        let request = HTTPClientRequest()
        guard !closed else {
            loop.runBeforeNextWait { handler(.failed("the client is closed")) }
            return request
        }
        var head = head
        let authority = port == defaultPort ? host.bracketedIfIPv6 : "\(host.bracketedIfIPv6):\(port)"
        head.headers.set("Host", authority)
        if !body.isEmpty || head.method == "POST" { head.headers.set("Content-Length", String(body.count)) }
        if route.proxy != nil && route.tls == nil { head.target = "http://\(authority)\(head.target)" }
        waiting.append((head, body, request, handler))
        dispatch()
        return request
    }

    private func makeConnection() -> HTTPClientConnection {
        let connection = HTTPClientConnection(host: host, port: port, route: route, loop: loop, limits: limits, connectTimeout: connectTimeout)
        connection.onReusable = { [weak self, unowned connection] in self?.reuse(connection) }
        connection.onClosed = { [weak self, unowned connection] in self?.forget(connection) }
        return connection
    }

    private func dispatch() {
        while !waiting.isEmpty {
            let connection: HTTPClientConnection
            if let reusable = idle.popLast() {
                connection = reusable
            } else if busy.count + idle.count < maxConnections {
                connection = makeConnection()
            } else {
                return
            }
            let (head, body, request, handler) = waiting.removeFirst()
            if request.cancelled { idle.append(connection); continue }
            busy[ObjectIdentifier(connection)] = connection
            request.connection = connection
            connection.perform(head, body: body, handler: handler)
        }
    }

    private func reuse(_ connection: HTTPClientConnection) {
        busy[ObjectIdentifier(connection)] = nil
        if closed {
            connection.close(reason: "client closed")
            return
        }
        idle.append(connection)
        dispatch()
    }

    private func forget(_ connection: HTTPClientConnection) {
        busy[ObjectIdentifier(connection)] = nil
        idle.removeAll { $0 === connection }
        dispatch()
    }

    /// Closes every connection; requests in progress fail.
    public func close() {
        closed = true
        let pending = waiting
        waiting = []
        for (_, _, _, handler) in pending { handler(.failed("the client is closed")) }
        for connection in idle + Array(busy.values) { connection.close(reason: "client closed") }
        idle = []
        busy = [:]
    }
}

/// One TCP connection of an `HTTPClient`: resolved off the loop, connected, tunnelled through
/// a proxy and secured as its route asks, then carrying one request at a time.
final class HTTPClientConnection {
    private enum State {
        case unconnected
        case resolving
        case connecting(descriptor: Int32)
        /// `CONNECT` sent to the proxy; its answer is being read.
        case tunnelling(descriptor: Int32, answer: [UInt8])
        case securing(SocketStream)
        case connected(SocketStream)
        case closed
    }

    private let host: String
    private let port: Int
    private let route: HTTPClientRoute
    private let loop: EventLoop
    private let connectTimeout: UInt64
    private var state = State.unconnected
    private var setupTimer: EventLoop.TimerID?
    private var parser: HTTPResponseParser
    private var handler: ((HTTPClientEvent) -> Void)?
    private var queuedRequest: [UInt8]?
    private var keepsConnection = true
    var onReusable: () -> Void = {}
    var onClosed: () -> Void = {}

    init(host: String, port: Int, route: HTTPClientRoute, loop: EventLoop, limits: HTTPLimits, connectTimeout: UInt64) {
        self.host = host
        self.port = port
        self.route = route
        self.loop = loop
        self.connectTimeout = connectTimeout
        self.parser = HTTPResponseParser(limits: limits)
    }

    /// Where the socket goes first: the proxy, when there is one.
    private var firstHop: (host: String, port: Int) { route.proxy.map { ($0.host, $0.port) } ?? (host, port) }
    private var origin: String { "\(host.bracketedIfIPv6):\(port)" }
    private var via: String { route.proxy.map { " through proxy \($0)" } ?? "" }

    func perform(_ head: HTTPRequestHead, body: [UInt8], handler: @escaping (HTTPClientEvent) -> Void) {
        self.handler = handler
        parser.expectResponse(toMethod: head.method)
        let bytes = head.serialized() + body
        switch state {
        case .connected(let stream), .securing(let stream): stream.write(bytes)
        case .unconnected:
            queuedRequest = bytes
            connect()
        case .resolving, .connecting, .tunnelling: queuedRequest = bytes
        case .closed: fail("connection closed")
        }
    }

    private func connect() {
        state = .resolving
        setupTimer = loop.schedule(afterNanoseconds: connectTimeout) { [weak self] in
            guard let self else { return }
            self.fail("connecting to \(self.origin)\(self.via) timed out after \(self.connectTimeout / 1_000_000_000) s")
        }
        let (name, port) = firstHop
        if let numeric = ResolvedAddress(numeric: name, port: port) { return connect(to: numeric) }
        // getaddrinfo blocks, so it runs on another thread and the answer comes back to the loop.
        let bound = LoopBound(self, loop: loop)
        let loop = self.loop
        DispatchQueue.global().async {
            let resolved = ResolvedAddress.lookUp(name, port: port)
            loop.execute { bound.value.resolved(resolved) }
        }
    }

    private func resolved(_ result: Result<ResolvedAddress, ResolutionError>) {
        guard case .resolving = state else { return }
        switch result {
        case .success(let address): connect(to: address)
        case .failure(let error): fail(route.proxy.map { "cannot resolve proxy \($0) for \(origin): \(error)" } ?? "cannot resolve \(host): \(error)")
        }
    }

    private func connect(to address: ResolvedAddress) {
        let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return fail("socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let connected = address.withSockaddr { Glibc.connect(descriptor, $0, $1) }
        if connected != 0 && errno != EINPROGRESS {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            return fail(connectFailure(reason))
        }
        state = .connecting(descriptor: descriptor)
        loop.register(descriptor, interest: .write) { [weak self] _ in self?.connectFinished() }
    }

    private func connectFailure(_ reason: String) -> String {
        route.proxy.map { "cannot connect to proxy \($0) for \(origin): \(reason)" } ?? "cannot connect to \(origin): \(reason)"
    }

    private func connectFinished() {
        guard case .connecting(let descriptor) = state else { return }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
        guard code == 0 else {
            loop.unregister(descriptor)
            Glibc.close(descriptor)
            state = .unconnected
            return fail(connectFailure(String(cString: strerror(code))))
        }
        if route.proxy != nil && route.tls != nil {
            return startTunnel(descriptor)
        }
        loop.unregister(descriptor)
        startStream(descriptor)
    }

    /// Asks the proxy for a tunnel to the origin; the TLS handshake runs inside it.
    private func startTunnel(_ descriptor: Int32) {
        let request = Array("CONNECT \(origin) HTTP/1.1\r\nHost: \(origin)\r\n\r\n".utf8)
        // A request this small fits any fresh socket's send buffer.
        let written = request.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == request.count else {
            loop.unregister(descriptor)
            Glibc.close(descriptor)
            return fail(connectFailure("sending CONNECT failed: \(String(cString: strerror(errno)))"))
        }
        state = .tunnelling(descriptor: descriptor, answer: [])
        loop.unregister(descriptor)
        loop.register(descriptor, interest: .read) { [weak self] _ in self?.readTunnelAnswer() }
    }

    private func readTunnelAnswer() {
        guard case .tunnelling(let descriptor, var answer) = state, let proxy = route.proxy else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard count > 0 else {
            loop.unregister(descriptor)
            Glibc.close(descriptor)
            state = .unconnected
            return fail("proxy \(proxy) closed the connection instead of opening a tunnel to \(origin)")
        }
        answer += chunk[0..<count]
        guard let end = answer.firstRange(of: [13, 10, 13, 10]) else {
            guard answer.count < 16384 else {
                loop.unregister(descriptor)
                Glibc.close(descriptor)
                return fail("proxy \(proxy) sent an oversized answer to CONNECT \(origin)")
            }
            state = .tunnelling(descriptor: descriptor, answer: answer)
            return
        }
        let statusLine = String(decoding: answer[..<(answer.firstRange(of: [13, 10])?.lowerBound ?? end.lowerBound)], as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (200..<300).contains(status) else {
            loop.unregister(descriptor)
            Glibc.close(descriptor)
            return fail("proxy \(proxy) refused CONNECT \(origin): \(statusLine)")
        }
        loop.unregister(descriptor)
        startStream(descriptor)
    }

    private func startStream(_ descriptor: Int32) {
        var session: TLSSession?
        if let tls = route.tls {
            do {
                session = try TLSSession(context: tls, descriptor: descriptor, serverName: host)
            } catch {
                Glibc.close(descriptor)
                return fail("TLS with \(origin): \(error)")
            }
        }
        let stream = SocketStream(descriptor: descriptor, loop: loop, tls: session)
        stream.onBytes = { [unowned self] bytes in received(bytes) }
        stream.onClosed = { [unowned self] closure in streamClosed(closure) }
        stream.onSecured = { [unowned self, unowned stream] in secured(stream) }
        if let queuedRequest {
            self.queuedRequest = nil
            stream.write(queuedRequest)
        }
        if session == nil {
            endSetup()
            state = .connected(stream)
        } else {
            state = .securing(stream)
        }
        stream.start()
    }

    private func secured(_ stream: SocketStream) {
        endSetup()
        state = .connected(stream)
    }

    private func endSetup() {
        if let setupTimer { loop.cancelTimer(setupTimer) }
        setupTimer = nil
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        do {
            deliver(try parser.nextEvents())
        } catch {
            fail("bad response from \(origin): \(error)")
        }
    }

    private func deliver(_ events: [HTTPResponseEvent]) {
        for event in events {
            guard let handler else { return }
            switch event {
            case .head(let head): handler(.head(head))
            case .body(let bytes): handler(.body(bytes))
            case .end:
                keepsConnection = parser.responseKeepsConnection
                self.handler = nil
                handler(.end)
                if keepsConnection, case .connected = state { onReusable() } else { close(reason: "response done") }
            }
        }
    }

    private func streamClosed(_ closure: SocketStream.Closure) {
        if case .tlsFailed(let failure) = closure {
            state = .closed
            failWithoutClosing("TLS with \(origin)\(via) failed: \(failure)")
        } else if handler != nil {
            do {
                deliver(try parser.connectionClosed())
            } catch {
                failWithoutClosing("\(origin) closed the connection mid-response (\(closure))")
            }
            if handler != nil { failWithoutClosing("\(origin) closed the connection (\(closure))") }
        }
        finishClosing()
    }

    private func failWithoutClosing(_ reason: String) {
        let handler = self.handler
        self.handler = nil
        handler?(.failed(reason))
    }

    private func fail(_ reason: String) {
        let handler = self.handler
        self.handler = nil
        close(reason: reason)
        handler?(.failed(reason))
    }

    func close(reason: String) {
        endSetup()
        switch state {
        case .connecting(let descriptor), .tunnelling(let descriptor, _):
            loop.unregister(descriptor)
            Glibc.close(descriptor)
        case .connected(let stream), .securing(let stream):
            state = .closed
            stream.close()
            return
        case .unconnected, .resolving, .closed:
            break
        }
        finishClosing()
    }

    private func finishClosing() {
        endSetup()
        if case .closed = state { } else { state = .closed }
        if let handler {
            self.handler = nil
            handler(.failed("connection closed"))
        }
        let onClosed = self.onClosed
        self.onClosed = {}
        onClosed()
    }
}

/// A socket address found for a name, carried from the resolver's thread to the loop.
struct ResolvedAddress: Sendable {
    let family: Int32
    private let bytes: [UInt8]

    /// An IP literal, which needs no lookup.
    init?(numeric host: String, port: Int) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        guard case .success(let address) = Self.lookUp(host, port: port, hints: hints) else { return nil }
        self = address
    }

    private init(family: Int32, bytes: [UInt8]) {
        self.family = family
        self.bytes = bytes
    }

    static func lookUp(_ host: String, port: Int) -> Result<ResolvedAddress, ResolutionError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        return lookUp(host, port: port, hints: hints)
    }

    private static func lookUp(_ host: String, port: Int, hints: addrinfo) -> Result<ResolvedAddress, ResolutionError> {
        var hints = hints
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else { return .failure(ResolutionError(status: status)) }
        defer { freeaddrinfo(result) }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        return .success(ResolvedAddress(family: first.pointee.ai_family, bytes: bytes))
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        bytes.withUnsafeBytes { raw in body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count)) }
    }
}

struct ResolutionError: Error, Sendable, CustomStringConvertible {
    let status: Int32
    var description: String { String(cString: gai_strerror(status)) }
}

extension String {
    var bracketedIfIPv6: String { contains(":") ? "[\(self)]" : self }
}
