import HTTP

/// One request and the response being made for it. The handler answers with `respond`, or
/// with `beginStream`, any number of `send`s, and `endStream` (chunked; close-delimited for
/// HTTP/1.0 clients).
public final class HTTPExchange {
    enum State { case awaitingResponse, streaming, finished }

    public let request: HTTPRequest
    /// The client's address, `host:port`.
    public let peer: String
    /// The connection went away before the response was complete.
    public var onAbort: () -> Void = {}
    private(set) var state = State.awaitingResponse
    private weak var connection: HTTPServerConnection?
    private var chunked = false

    init(request: HTTPRequest, peer: String, connection: HTTPServerConnection) {
        self.request = request
        self.peer = peer
        self.connection = connection
    }

    public var isFinished: Bool { state == .finished }
    public var isStreaming: Bool { state == .streaming }
    /// Bytes written for this connection that the client has not read yet.
    public var queuedBytes: Int { connection?.queuedBytes ?? 0 }

    /// Sends a whole response with `Content-Length`.
    public func respond(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        guard state == .awaitingResponse, let connection else { return }
        var head = HTTPResponseHead(status: status, headers: headers)
        head.headers.set("Content-Length", String(body.count))
        state = .finished
        var bytes = connection.serializedHead(head, for: self)
        if request.head.method != "HEAD" { bytes.append(contentsOf: body) }
        connection.write(bytes)
        connection.exchangeFinished(self)
    }

    /// Starts a response whose body follows in pieces.
    public func beginStream(status: Int, headers: HTTPHeaders = HTTPHeaders()) {
        guard state == .awaitingResponse, let connection else { return }
        var head = HTTPResponseHead(status: status, headers: headers)
        chunked = request.head.version == .http1_1
        if chunked { head.headers.set("Transfer-Encoding", "chunked") }
        state = .streaming
        connection.write(connection.serializedHead(head, for: self, closeAfter: !chunked))
    }

    public func send(_ bytes: [UInt8]) {
        guard state == .streaming, !bytes.isEmpty, let connection else { return }
        connection.write(chunked ? HTTPChunkedEncoding.chunk(bytes) : bytes)
    }

    public func endStream() {
        guard state == .streaming, let connection else { return }
        state = .finished
        if chunked { connection.write(HTTPChunkedEncoding.lastChunk) }
        connection.exchangeFinished(self)
    }

    /// The connection closed under the exchange.
    func abort() {
        guard state != .finished else { return }
        state = .finished
        onAbort()
    }
}
