/// Parses the responses arriving on one client connection, streaming their bodies: an SSE
/// response that never ends is delivered piece by piece as it arrives.
///
/// Call `expectResponse(toMethod:)` for each request sent, in order: whether a response has
/// a body depends on the request (HEAD) as much as on the status (1xx, 204, 304). Interim
/// 1xx responses are skipped; a 101 ends the exchange, the connection no longer speaks HTTP.
/// Every error is reported with status 502; after one the parser is dead.
public struct HTTPResponseParser: Sendable {
    private enum Stage: Sendable {
        case head
        case lengthBody(remaining: Int)
        case chunkedBody(ChunkedBodyDecoder)
        case bodyUntilClose
        case switchedProtocols
        case failed(HTTPParseError)
    }

    private let limits: HTTPLimits
    private var buffer = ReceiveBuffer()
    private var stage = Stage.head
    private var head: HeadReader<StatusLine>
    /// For each request sent and not answered yet: whether it was a HEAD request.
    private var unansweredRequestsAreHead: [Bool] = []
    /// Whether the connection can carry another request once the current response ends.
    public private(set) var responseKeepsConnection = true

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
        self.head = HeadReader(limits: limits)
    }

    /// Notes a request sent on the connection, so its response is read right.
    public mutating func expectResponse(toMethod method: String) {
        unansweredRequestsAreHead.append(method == "HEAD")
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(bytes)
    }

    /// What the bytes received so far complete. When they hold an error, it is thrown and the
    /// events before it in the same bytes are dropped: that response is unusable anyway.
    public mutating func nextEvents() throws(HTTPParseError) -> [HTTPResponseEvent] {
        if case .failed(let error) = stage { throw error }
        var events: [HTTPResponseEvent] = []
        do {
            try parse(into: &events)
        } catch {
            fail(with: error.reason)
        }
        if case .failed(let error) = stage { throw error }
        return events
    }

    /// The server closed the connection: ends a body delimited by the close, refuses a
    /// response cut short.
    public mutating func connectionClosed() throws(HTTPParseError) -> [HTTPResponseEvent] {
        var events = try nextEvents()
        switch stage {
        case .bodyUntilClose:
            endResponse(into: &events)
        case .head where buffer.isEmpty && !head.hasStarted:
            if !unansweredRequestsAreHead.isEmpty { fail(with: "connection closed before the response arrived") }
        case .switchedProtocols:
            break
        default:
            fail(with: "connection closed mid-response")
        }
        if case .failed(let error) = stage { throw error }
        stage = .failed(.badGateway("the connection is closed"))
        return events
    }

    private mutating func parse(into events: inout [HTTPResponseEvent]) throws(HTTPParseError) {
        while true {
            switch stage {
            case .head:
                guard !buffer.isEmpty else { return }
                guard let isHeadRequest = unansweredRequestsAreHead.first else {
                    throw .badGateway("the server sent bytes while no request was outstanding")
                }
                buffer.consume(try head.read(buffer))
                guard head.isComplete, let statusLine = head.startLine else { return }
                try begin(statusLine, toHeadRequest: isHeadRequest, into: &events)
            case .lengthBody(let remaining):
                guard !buffer.isEmpty else { return }
                let taken = min(remaining, buffer.count)
                events.append(.body(buffer.copy(0..<taken)))
                buffer.consume(taken)
                if taken == remaining { endResponse(into: &events) } else { stage = .lengthBody(remaining: remaining - taken) }
            case .chunkedBody(var decoder):
                var data: [UInt8] = []
                buffer.consume(try decoder.decode(buffer, into: &data))
                if !data.isEmpty { events.append(.body(data)) }
                guard decoder.isFinished else {
                    stage = .chunkedBody(decoder)
                    return
                }
                endResponse(into: &events)
            case .bodyUntilClose:
                if !buffer.isEmpty {
                    events.append(.body(buffer.copy(0..<buffer.count)))
                    buffer.removeAll()
                }
                return
            case .switchedProtocols:
                buffer.removeAll()
                return
            case .failed(let error):
                throw error
            }
        }
    }

    private mutating func begin(_ statusLine: StatusLine, toHeadRequest: Bool, into events: inout [HTTPResponseEvent]) throws(HTTPParseError) {
        let section = head.section
        if (100..<200).contains(statusLine.status) && statusLine.status != 101 {
            head = HeadReader(limits: limits)
            return
        }
        let responseHead = HTTPResponseHead(status: statusLine.status, reason: statusLine.reason, version: statusLine.version, headers: section.headers)
        events.append(.head(responseHead))
        if statusLine.status == 101 {
            responseKeepsConnection = false
            endResponse(into: &events)
            stage = .switchedProtocols
            return
        }
        let framing = try section.responseFraming(status: statusLine.status, toHeadRequest: toHeadRequest)
        let headers = responseHead.headers
        let persistent = statusLine.version == .http1_1 || headers.containsToken("keep-alive", in: "Connection")
        responseKeepsConnection = persistent && !headers.containsToken("close", in: "Connection") && framing != .untilClose
        switch framing {
        case .none:
            endResponse(into: &events)
        case .length(let length):
            stage = .lengthBody(remaining: length)
        case .chunked:
            stage = .chunkedBody(ChunkedBodyDecoder(limits: limits, headBytes: head.byteCount, headFields: head.fieldCount, maxBodyBytes: .max))
        case .untilClose:
            stage = .bodyUntilClose
        }
    }

    private mutating func endResponse(into events: inout [HTTPResponseEvent]) {
        events.append(.end)
        if !unansweredRequestsAreHead.isEmpty { unansweredRequestsAreHead.removeFirst() }
        head = HeadReader(limits: limits)
        stage = .head
    }

    private mutating func fail(with reason: String) {
        stage = .failed(.badGateway(reason))
        buffer.removeAll()
    }
}
