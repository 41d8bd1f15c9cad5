import Glibc
import HTTP
import IO
import TLS

/// One client connection: parses requests in order, runs one exchange at a time (pipelined
/// requests wait their turn), and closes on errors, timeouts, or when the server drains.
final class HTTPServerConnection {
    enum State {
        /// Between requests, since the given time (idle or a request head partly received).
        case waiting(since: UInt64)
        case exchanging(HTTPExchange)
        case closed
    }

    let id: Int
    let peer: String
    private let stream: SocketStream
    private var parser: HTTPRequestParser
    private(set) var state: State
    private unowned let server: HTTPServer
    /// Set when the server drains: the current exchange is the last one.
    private var closesAfterExchange = false
    /// Beyond this many unparsed bytes buffered during an exchange, reading pauses.
    private static let pipelineBufferLimit = 1 << 20

    init(id: Int, descriptor: Int32, tls: TLSSession?, server: HTTPServer, loop: EventLoop) {
        self.id = id
        self.server = server
        self.peer = SocketAddress.peer(of: descriptor)
        self.stream = SocketStream(descriptor: descriptor, loop: loop, tls: tls)
        self.parser = HTTPRequestParser(limits: server.settings.limits)
        self.state = .waiting(since: EventLoop.now())
        stream.onBytes = { [unowned self] bytes in self.received(bytes) }
        stream.onClosed = { [unowned self] closure in self.streamClosed(closure) }
        stream.start()
    }

    var queuedBytes: Int { stream.queuedBytes }
    var isIdle: Bool {
        // A TLS handshake under way counts as a request being received: the header timeout applies.
        if case .waiting = state { return !parser.hasPartialRequest && !stream.isHandshaking }
        return false
    }

    func write(_ bytes: [UInt8]) {
        stream.write(bytes)
        if stream.queuedBytes > server.settings.maxQueuedBytes {
            server.log.warning("closing connection from \(peer): \(stream.queuedBytes) bytes unread by the client")
            stream.close(.failed(ENOBUFS))
        }
    }

    func serializedHead(_ head: HTTPResponseHead, for exchange: HTTPExchange, closeAfter: Bool = false) -> [UInt8] {
        var head = head
        if closeAfter || closesAfterExchange || !exchange.request.head.keepAlive {
            head.headers.set("Connection", "close")
            closesAfterExchange = true
        } else if exchange.request.head.version == .http1_0 {
            head.headers.set("Connection", "keep-alive")
        }
        return head.serialized()
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        if case .waiting = state, !parser.hasPartialRequest {
            state = .waiting(since: EventLoop.now())
        }
        parser.append(bytes)
        if case .waiting = state {
            parseNext()
        } else if parser.bufferedByteCount > Self.pipelineBufferLimit {
            stream.setReading(false)
        }
    }

    private func parseNext() {
        guard case .waiting = state else { return }
        do {
            guard let request = try parser.next() else {
                if parser.expectsContinue {
                    stream.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    parser.continueSent()
                }
                stream.setReading(true)
                return
            }
            let exchange = HTTPExchange(request: request, peer: peer, connection: self)
            state = .exchanging(exchange)
            server.requestStarted()
            server.handler(exchange)
        } catch {
            reject(error)
        }
    }

    private func reject(_ error: HTTPParseError) {
        server.log.info("bad request from \(peer): \(error.status) \(error.reason)")
        server.parseErrorSeen(status: error.status)
        var head = HTTPResponseHead(status: error.status)
        let body = Array("\(error.reason)\n".utf8)
        head.headers.set("Content-Type", "text/plain; charset=utf-8")
        head.headers.set("Content-Length", String(body.count))
        head.headers.set("Connection", "close")
        state = .closed
        stream.write(head.serialized() + body)
        stream.closeAfterFlush()
    }

    func exchangeFinished(_ exchange: HTTPExchange) {
        guard case .exchanging(let current) = state, current === exchange else { return }
        server.requestFinished()
        if closesAfterExchange {
            state = .closed
            stream.closeAfterFlush()
            return
        }
        state = .waiting(since: EventLoop.now())
        parseNext()
    }

    /// Called once a second by the server: enforces the header, idle and write timeouts.
    func enforceTimeouts(now: UInt64) {
        let settings = server.settings
        if stream.queuedBytes > 0 && now - stream.lastWriteProgress > settings.writeTimeout {
            server.log.info("closing connection from \(peer): the client read nothing for \(settings.writeTimeout / 1_000_000_000)s")
            stream.close(.failed(ETIMEDOUT))
            return
        }
        guard case .waiting(let since) = state else { return }
        if parser.hasPartialRequest {
            if now - since > settings.headerTimeout {
                server.log.info("closing connection from \(peer): request not complete within \(settings.headerTimeout / 1_000_000_000)s")
                reject(HTTPParseError(status: 408, reason: "request not received in time"))
            }
        } else if now - since > settings.idleTimeout {
            close()
        }
    }

    /// Draining: idle connections close now, busy ones after their current exchange.
    func drain() {
        closesAfterExchange = true
        if isIdle { close() }
    }

    func close() {
        guard !stream.isClosed else { return }
        stream.closeAfterFlush()
    }

    private func streamClosed(_ closure: SocketStream.Closure) {
        if case .tlsFailed(let failure) = closure {
            server.tlsFailed()
            server.log.info("TLS with \(peer) failed: \(failure)")
        }
        if case .exchanging(let exchange) = state {
            server.requestFinished()
            exchange.abort()
        }
        state = .closed
        server.connectionClosed(self)
    }
}
