import Glibc
import HTTP
import IO
import Logging

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

/// An HTTP/1.1 client for one origin on the event loop: up to `maxConnections` keep-alive
/// connections, one request at a time on each, requests beyond that wait in order.
public final class HTTPClient {
    public let host: String
    public let port: Int
    private let loop: EventLoop
    private let log: Logger
    private let limits: HTTPLimits
    private let maxConnections: Int
    private let connectTimeout: UInt64
    private var idle: [HTTPClientConnection] = []
    private var busy: [ObjectIdentifier: HTTPClientConnection] = [:]
    private var waiting: [(HTTPRequestHead, [UInt8], HTTPClientRequest, (HTTPClientEvent) -> Void)] = []
    private var closed = false

    public init(host: String, port: Int, loop: EventLoop, log: Logger, limits: HTTPLimits = HTTPLimits(), maxConnections: Int = 8, connectTimeout: UInt64 = 10_000_000_000) {
        self.host = host
        self.port = port
        self.loop = loop
        self.log = log
        self.limits = limits
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
    }

    /// Sends `head` (Host and Content-Length are filled in) with `body`.
    @discardableResult
    public func send(_ head: HTTPRequestHead, body: [UInt8] = [], handler: @escaping (HTTPClientEvent) -> Void) -> HTTPClientRequest {
        let request = HTTPClientRequest()
        guard !closed else {
            loop.runBeforeNextWait { handler(.failed("the client is closed")) }
            return request
        }
        var head = head
        head.headers.set("Host", port == 80 ? host.bracketedIfIPv6 : "\(host.bracketedIfIPv6):\(port)")
        if !body.isEmpty || head.method == "POST" { head.headers.set("Content-Length", String(body.count)) }
        waiting.append((head, body, request, handler))
        dispatch()
        return request
    }

    private func dispatch() {
        while !waiting.isEmpty {
            let connection: HTTPClientConnection
            if let reusable = idle.popLast() {
                connection = reusable
            } else if busy.count + idle.count < maxConnections {
                connection = HTTPClientConnection(host: host, port: port, loop: loop, limits: limits, connectTimeout: connectTimeout)
                connection.onReusable = { [weak self, unowned connection] in self?.reuse(connection) }
                connection.onClosed = { [weak self, unowned connection] in self?.forget(connection) }
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

/// One TCP connection of an `HTTPClient`.
final class HTTPClientConnection {
    private enum State {
        case unconnected
        case connecting(descriptor: Int32, timer: EventLoop.TimerID)
        case connected(SocketStream)
        case closed
    }

    private let host: String
    private let port: Int
    private let loop: EventLoop
    private let connectTimeout: UInt64
    private var state = State.unconnected
    private var parser: HTTPResponseParser
    private var handler: ((HTTPClientEvent) -> Void)?
    private var queuedRequest: [UInt8]?
    private var keepsConnection = true
    var onReusable: () -> Void = {}
    var onClosed: () -> Void = {}

    init(host: String, port: Int, loop: EventLoop, limits: HTTPLimits, connectTimeout: UInt64) {
        self.host = host
        self.port = port
        self.loop = loop
        self.connectTimeout = connectTimeout
        self.parser = HTTPResponseParser(limits: limits)
    }

    func perform(_ head: HTTPRequestHead, body: [UInt8], handler: @escaping (HTTPClientEvent) -> Void) {
        self.handler = handler
        parser.expectResponse(toMethod: head.method)
        let bytes = head.serialized() + body
        switch state {
        case .connected(let stream): stream.write(bytes)
        case .unconnected:
            queuedRequest = bytes
            connect()
        case .connecting: queuedRequest = bytes
        case .closed: fail("connection closed")
        }
    }

    private func connect() {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        // Name lookup blocks the loop; upstream URLs are loopback or names in /etc/hosts in practice.
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            return fail("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return fail("socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let connected = Glibc.connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen)
        if connected != 0 && errno != EINPROGRESS {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            return fail("cannot connect to \(host):\(port): \(reason)")
        }
        let timer = loop.schedule(afterNanoseconds: connectTimeout) { [weak self] in
            self?.fail("connecting to \(self?.host ?? ""):\(self?.port ?? 0) timed out")
        }
        state = .connecting(descriptor: descriptor, timer: timer)
        loop.register(descriptor, interest: .write) { [weak self] _ in self?.connectFinished() }
    }

    private func connectFinished() {
        guard case .connecting(let descriptor, let timer) = state else { return }
        loop.cancelTimer(timer)
        loop.unregister(descriptor)
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
        guard code == 0 else {
            Glibc.close(descriptor)
            state = .unconnected
            return fail("cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        let stream = SocketStream(descriptor: descriptor, loop: loop)
        stream.onBytes = { [unowned self] bytes in received(bytes) }
        stream.onClosed = { [unowned self] closure in streamClosed(closure) }
        state = .connected(stream)
        stream.start()
        if let queuedRequest {
            self.queuedRequest = nil
            stream.write(queuedRequest)
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        do {
            deliver(try parser.nextEvents())
        } catch {
            fail("bad response from \(host):\(port): \(error)")
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
        if handler != nil {
            do {
                deliver(try parser.connectionClosed())
            } catch {
                fail("\(host):\(port) closed the connection mid-response (\(closure))")
            }
            if handler != nil { fail("\(host):\(port) closed the connection (\(closure))") }
        }
        finishClosing()
    }

    private func fail(_ reason: String) {
        let handler = self.handler
        self.handler = nil
        close(reason: reason)
        handler?(.failed(reason))
    }

    func close(reason: String) {
        switch state {
        case .connecting(let descriptor, let timer):
            loop.cancelTimer(timer)
            loop.unregister(descriptor)
            Glibc.close(descriptor)
        case .connected(let stream):
            state = .closed
            stream.close()
            return
        case .unconnected, .closed:
            break
        }
        finishClosing()
    }

    private func finishClosing() {
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

extension String {
    var bracketedIfIPv6: String { contains(":") ? "[\(self)]" : self }
}
