import HTTP
import Testing

@Suite("Reading responses")
struct HTTPResponseParserTests {
    /// A parser expecting responses to `methods`, fed `text`.
    private func parser(for methods: [String] = ["GET"], _ text: String) -> HTTPResponseParser {
        var parser = HTTPResponseParser(limits: HTTPLimits())
        for method in methods { parser.expectResponse(toMethod: method) }
        parser.append(text.bytes)
        return parser
    }

    /// The body bytes among `events`, joined.
    private func body(_ events: [HTTPResponseEvent]) -> [UInt8] {
        events.flatMap { event -> [UInt8] in
            if case .body(let bytes) = event { return bytes }
            return []
        }
    }

    @Test("a Content-Length response gives its head, its body and its end")
    func contentLength() throws {
        var parser = parser("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        let events = try parser.nextEvents()
        let head = HTTPResponseHead(status: 200, reason: "OK", version: .http1_1, headers: ["Content-Type": "application/json", "Content-Length": "2"])
        #expect(events == [.head(head), .body("{}".bytes), .end])
        #expect(parser.responseKeepsConnection)
    }

    @Test("a chunked body split across appends is delivered decoded as it arrives")
    func chunkedAcrossAppends() throws {
        var parser = parser("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        var events = try parser.nextEvents()
        #expect(events.count == 2)
        #expect(body(events) == "hel".bytes)
        for piece in ["lo\r", "\n", "6\r\n wor", "ld\r\n0\r", "\nTrailer: x\r\n", "\r\n"] {
            parser.append(piece.bytes)
            events += try parser.nextEvents()
        }
        #expect(body(events) == "hello world".bytes)
        #expect(events.last == .end)
        #expect(events.filter { $0 == .end }.count == 1)
    }

    @Test("a body without length runs until the connection closes, which ends it")
    func closeDelimited() throws {
        var parser = parser("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
        var events = try parser.nextEvents()
        #expect(!parser.responseKeepsConnection)
        parser.append("part two".bytes)
        events += try parser.nextEvents()
        #expect(events.last != .end)
        events += try parser.connectionClosed()
        #expect(body(events) == "part one, part two".bytes)
        #expect(events.last == .end)
    }

    @Test("responses to HEAD, and 204 and 304 responses, have no body whatever their headers say")
    func noBody() throws {
        var parser = parser(for: ["HEAD", "DELETE", "GET"],
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")
        let events = try parser.nextEvents()
        #expect(events.filter { $0 == .end }.count == 3)
        #expect(body(events).isEmpty)
        #expect(parser.responseKeepsConnection)
    }

    @Test("an interim 100 Continue is skipped; the final response follows")
    func continueSkipped() throws {
        var parser = parser(for: ["POST"], "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        let events = try parser.nextEvents()
        guard case .head(let head) = events.first else { Issue.record("no head"); return }
        #expect(head.status == 201)
        #expect(events.count == 2)
    }

    @Test("an SSE body that never ends is streamed piece by piece")
    func streaming() throws {
        var parser = parser("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(try parser.nextEvents().count == 1)
        for number in 1...3 {
            parser.append(HTTPChunkedEncoding.chunk("data: \(number)\n\n".bytes))
            #expect(try parser.nextEvents() == [.body("data: \(number)\n\n".bytes)])
        }
    }

    @Test("Connection: close and HTTP/1.0 without keep-alive end the connection after the response")
    func connectionReuse() throws {
        var closing = parser("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        _ = try closing.nextEvents()
        #expect(!closing.responseKeepsConnection)
        var old = parser("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        _ = try old.nextEvents()
        #expect(!old.responseKeepsConnection)
        var oldKeepAlive = parser("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
        _ = try oldKeepAlive.nextEvents()
        #expect(oldKeepAlive.responseKeepsConnection)
    }

    @Test("a connection closed mid-response, or before it, is an error; an idle close is not")
    func closedEarly() throws {
        var midBody = parser("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        _ = try midBody.nextEvents()
        #expect(throws: HTTPParseError.badGatewayForTests("connection closed mid-response")) { try midBody.connectionClosed() }
        var unanswered = parser("")
        #expect(throws: HTTPParseError.self) { try unanswered.connectionClosed() }
        var idle = HTTPResponseParser(limits: HTTPLimits())
        #expect(try idle.connectionClosed() == [])
    }

    @Test("malformed responses are reported as 502 with the reason", arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n",
    ])
    func malformed(text: String) {
        var parser = parser(text)
        let error = #expect(throws: HTTPParseError.self) { try parser.nextEvents() }
        #expect(error?.status == 502)
    }

    /// Found by the fuzzer: the events a call would have returned before an error are dropped
    /// with it, so what a caller saw before the error depends on how the bytes were split.
    @Test("an error is thrown in place of the events before it in the same bytes")
    func errorDropsEarlierEvents() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n"
        let error = HTTPParseError.badGatewayForTests("chunk data not followed by CRLF")
        var whole = parser(text)
        #expect(throws: error) { try whole.nextEvents() }
        var split = parser(String(decoding: text.utf8.prefix(52), as: UTF8.self))
        #expect(try split.nextEvents().count == 2)
        split.append(Array(text.utf8.dropFirst(52)))
        #expect(throws: error) { try split.nextEvents() }
    }

    @Test("bytes from the server with no request outstanding are an error")
    func unsolicited() {
        var parser = parser(for: [], "HTTP/1.1 408 Request Timeout\r\n\r\n")
        #expect(throws: HTTPParseError.self) { try parser.nextEvents() }
    }

    @Test("two pipelined responses are read in order with their own framing")
    func pipelined() throws {
        var parser = parser(for: ["GET", "GET"], "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb")
        let events = try parser.nextEvents()
        #expect(events.count == 6)
        #expect(body(events) == "ab".bytes)
    }
}

extension HTTPParseError {
    static func badGatewayForTests(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 502, reason: reason)
    }
}
