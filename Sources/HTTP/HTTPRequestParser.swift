/// Parses requests from the bytes of one connection, as they arrive, strictly by RFC 9112:
/// anything two parsers could read differently (bare LF, obs-fold, Content-Length beside
/// Transfer-Encoding, conflicting lengths…) is refused rather than guessed at.
///
/// Append bytes, then call `next()` until it returns nil; pipelined requests stay buffered
/// for the following calls. After an error the parser is dead: `next()` throws it again.
/// Memory stays within the limits: a head over `maxHeaderBytes` is refused before more of it
/// is buffered, and a body over `maxBodyBytes` as soon as its size is known.
public struct HTTPRequestParser: Sendable {
    private enum Stage: Sendable {
        case head
        case lengthBody(HTTPRequestHead, length: Int)
        case chunkedBody(HTTPRequestHead, ChunkedBodyDecoder)
        case failed(HTTPParseError)
    }

    private let limits: HTTPLimits
    private var buffer = ReceiveBuffer()
    private var stage = Stage.head
    private var head: HeadReader<RequestLine>
    private var body: [UInt8] = []
    private var continueExpected = false

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        self.head = HeadReader(limits: limits)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(bytes)
    }

    /// Bytes received and not yet parsed.
    public var bufferedByteCount: Int { buffer.count }

    /// Some of a request has arrived but not all of it: a server uses this to tell a slow
    /// client (header timeout) from an idle one (idle timeout).
    public var hasPartialRequest: Bool {
        switch stage {
        case .head: !buffer.isEmpty || head.hasStarted
        case .lengthBody, .chunkedBody: true
        case .failed: false
        }
    }

    /// The request being read asked for `100 Continue` before sending its body (HTTP/1.1
    /// only), and the body is not complete. The server writes the interim response and calls
    /// `continueSent()`.
    public var expectsContinue: Bool {
        switch stage {
        case .lengthBody, .chunkedBody: continueExpected
        case .head, .failed: false
        }
    }

    public mutating func continueSent() {
        continueExpected = false
    }

    /// The next whole request with its body, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        if case .failed(let error) = stage { throw error }
        do {
            return try parseNext()
        } catch {
            stage = .failed(error)
            buffer.removeAll()
            body = []
            throw error
        }
    }

    private mutating func parseNext() throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch stage {
            case .head:
                buffer.consume(try head.read(buffer))
                guard head.isComplete, let requestLine = head.startLine else { return nil }
                let requestHead = HTTPRequestHead(
                    method: requestLine.method, target: requestLine.target, version: requestLine.version, headers: head.section.headers)
                continueExpected = head.section.expectsContinue && requestLine.version == .http1_1
                switch try framing(of: requestLine) {
                case .none, .untilClose:
                    return finish(requestHead)
                case .length(let length):
                    stage = .lengthBody(requestHead, length: length)
                case .chunked:
                    let decoder = ChunkedBodyDecoder(
                        limits: limits, headBytes: head.byteCount, headFields: head.fieldCount, maxBodyBytes: limits.maxBodyBytes)
                    stage = .chunkedBody(requestHead, decoder)
                }
            case .lengthBody(let requestHead, let length):
                guard buffer.count >= length else { return nil }
                body = buffer.copy(0..<length)
                buffer.consume(length)
                return finish(requestHead)
            case .chunkedBody(let requestHead, var decoder):
                buffer.consume(try decoder.decode(buffer, into: &body))
                guard decoder.isFinished else {
                    stage = .chunkedBody(requestHead, decoder)
                    return nil
                }
                return finish(requestHead)
            case .failed(let error):
                throw error
            }
        }
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request names its host exactly once.
    private func framing(of requestLine: RequestLine) throws(HTTPParseError) -> BodyFraming {
        let section = head.section
        if section.hostCount > 1 { throw .badRequest("more than one Host header") }
        if section.hostCount == 0 && requestLine.version == .http1_1 { throw .badRequest("missing Host header in an HTTP/1.1 request") }
        return try section.requestFraming(version: requestLine.version, maxBodyBytes: limits.maxBodyBytes)
    }

    private mutating func finish(_ requestHead: HTTPRequestHead) -> HTTPRequest {
        let request = HTTPRequest(head: requestHead, body: body)
        body = []
        continueExpected = false
        head = HeadReader(limits: limits)
        stage = .head
        return request
    }
}
