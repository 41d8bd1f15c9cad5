import HTTP
import Testing

@Suite("Reading requests")
struct HTTPRequestParserTests {
    @Test("a simple GET gives method, path, query, version and headers in their original case")
    func simpleGet() throws {
        let request = try #require(try RequestParsing.request("GET /mcp?session=1&x=%20 HTTP/1.1\r\nHost: localhost:8080\r\nX-Trace-ID: abc\r\n\r\n"))
        #expect(request.head.method == "GET")
        #expect(request.head.target == "/mcp?session=1&x=%20")
        #expect(request.head.path == "/mcp")
        #expect(request.head.query == "session=1&x=%20")
        #expect(request.head.version == .http1_1)
        #expect(Array(request.head.headers.map(\.name)) == ["Host", "X-Trace-ID"])
        #expect(request.head.headers["x-trace-id"] == "abc")
        #expect(request.body.isEmpty)
    }

    @Test("a POST body of Content-Length bytes is read whole")
    func contentLength() throws {
        let request = try #require(try RequestParsing.request("POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"))
        #expect(request.body == "hello world".bytes)
    }

    @Test("a request is not returned until all of its body has arrived")
    func waitsForBody() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.hasPartialRequest)
        parser.append("cde".bytes)
        #expect(try parser.next()?.body == "abcde".bytes)
        #expect(!parser.hasPartialRequest)
    }

    @Test("a chunked body is decoded; chunk extensions are ignored and trailers dropped")
    func chunked() throws {
        let text = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n" + "1 ; ext\r\n \r\n" + "A\r\n0123456789\r\n" + "0\r\nX-Checksum: 42\r\nX-Other: 1\r\n\r\n"
        let request = try #require(try RequestParsing.request(text))
        #expect(request.body == "hello 0123456789".bytes)
        #expect(request.head.headers["X-Checksum"] == nil)
    }

    @Test("two pipelined requests in one append come out one per call, in order")
    func pipelined() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nonePOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntwo".bytes)
        let first = try #require(try parser.next())
        #expect(first.head.path == "/a")
        #expect(first.body == "one".bytes)
        #expect(parser.hasPartialRequest)
        let second = try #require(try parser.next())
        #expect(second.head.path == "/b")
        #expect(second.body == "two".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test("a request fed one byte at a time parses exactly as when fed whole")
    func byteByByte() throws {
        let text = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
            + "PUT /b?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
            + "GET /c HTTP/1.0\r\n\r\n"
        let whole = try RequestParsing.requests(text)
        let (piecewise, error) = RequestParsing.outcome(text.bytes, pieceSize: 1)
        #expect(error == nil)
        #expect(piecewise == whole)
        #expect(whole.count == 3)
    }

    @Test("a few empty lines before a request line are skipped, as after a body sent with a stray CRLF")
    func leadingEmptyLines() throws {
        let requests = try RequestParsing.requests("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(requests.map(\.head.path) == ["/", "/2"])
        #expect(RequestParsing.error(String(repeating: "\r\n", count: 5) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
    }

    @Test("an absolute-form target gives its path and query", arguments: [
        ("http://example.com/a/b?c=d", "/a/b", "c=d"),
        ("HTTP://example.com:8080", "/", nil),
        ("https://example.com?x", "/", "x"),
    ] as [(String, String, String?)])
    func absoluteForm(target: String, path: String, query: String?) throws {
        let request = try #require(try RequestParsing.request("GET \(target) HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(request.head.path == path)
        #expect(request.head.query == query)
    }

    @Test("* is a target for OPTIONS only; host:port for CONNECT only")
    func asteriskAndAuthorityForms() throws {
        #expect(try RequestParsing.request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")?.head.path == "*")
        #expect(try RequestParsing.request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")?.head.target == "example.com:443")
        #expect(RequestParsing.error("GET * HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
        #expect(RequestParsing.error("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
        #expect(RequestParsing.error("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
    }

    @Test("header values are trimmed, may hold tabs and obs-text, and decode as UTF-8 or else Latin-1")
    func headerValues() throws {
        let bytes = "GET / HTTP/1.1\r\nHost: h\r\nA: \t spaced\tout \t\r\nB: caf\u{E9}\r\nC: ".bytes + [0xE9, 0xFF] + "\r\nD:\r\n\r\n".bytes
        let headers = try #require(try RequestParsing.requests(bytes).first).head.headers
        #expect(headers["A"] == "spaced\tout")
        #expect(headers["B"] == "café")
        #expect(headers["C"] == "\u{E9}\u{FF}")
        #expect(headers["D"] == "")
    }

    @Test("repeated Content-Length fields are accepted when they agree")
    func agreeingContentLengths() throws {
        let request = try RequestParsing.request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nok")
        #expect(request?.body == "ok".bytes)
    }

    @Test("a request without Content-Length or Transfer-Encoding has no body")
    func noBody() throws {
        let requests = try RequestParsing.requests("POST / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(requests.count == 2)
        #expect(requests[0].body.isEmpty)
    }

    @Test("HTTP/1.0 requests need no Host")
    func http10WithoutHost() throws {
        #expect(try RequestParsing.request("GET / HTTP/1.0\r\n\r\n")?.head.version == .http1_0)
    }
}

@Suite("Refusing bad requests")
struct HTTPRequestErrorTests {
    @Test("each malformed or ambiguous request is refused with its status", arguments: [
        ("bare LF ending a header line", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400),
        ("bare LF ending the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
        ("obs-fold continuation line", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  2\r\n\r\n", 400),
        ("space before the colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        ("header line without colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
        ("control character in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n", 400),
        ("bare CR in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        ("Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("Transfer-Encoding gzip then chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        ("chunked not the final coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("chunked twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("duplicate Content-Length that differ", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("Content-Length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
        ("Content-Length with a sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", 400),
        ("Content-Length overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
        ("missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        ("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505),
        ("malformed version", "GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400),
        ("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        ("method not a token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("two spaces after the method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("space in the target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("target neither path nor URL", "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("chunk size not hexadecimal", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("chunk size overflow", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", 400),
        ("chunk data without CRLF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400),
        ("bare LF after a chunk size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400),
        ("obs-fold in the trailers", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n 2\r\n\r\n", 400),
    ])
    func refused(what: String, text: String, status: Int) {
        let error = RequestParsing.error(text)
        #expect(error?.status == status, "\(what): \(String(describing: error))")
    }

    @Test("reasons name the problem precisely and never repeat header values")
    func reasons() {
        #expect(RequestParsing.error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")?.reason
            == "Content-Length and Transfer-Encoding both present")
        #expect(RequestParsing.error("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n")?.reason == "header line without colon")
        let secret = RequestParsing.error("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer s3cr3t\u{7F}\r\n\r\n")
        #expect(secret?.reason.contains("Authorization") == true)
        #expect(secret?.reason.contains("s3cr3t") == false)
        #expect(secret?.description.hasPrefix("400 Bad Request: ") == true)
    }

    @Test("headers over maxHeaderBytes are refused with 431, complete or not")
    func oversizedHeaders() {
        let limits = HTTPLimits(maxHeaderBytes: 1024)
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "a", count: 1100))\r\n\r\n"
        #expect(RequestParsing.error(big, limits: limits)?.status == 431)
        #expect(RequestParsing.error(String(decoding: big.utf8.prefix(1050), as: UTF8.self), limits: limits)?.status == 431)
        let justFits = "GET / HTTP/1.1\r\nHost: h\r\nX: \(String(repeating: "a", count: 1024 - 32))\r\n\r\n"
        #expect(justFits.utf8.count == 1024)
        #expect(RequestParsing.error(justFits, limits: limits) == nil)
    }

    @Test("more header fields than maxHeaderCount are refused with 431")
    func tooManyHeaders() {
        let limits = HTTPLimits(maxHeaderCount: 10)
        let nineFields = (1...9).map { "X-\($0): v\r\n" }.joined()
        #expect(RequestParsing.error("GET / HTTP/1.1\r\nHost: h\r\n\(nineFields)\r\n", limits: limits) == nil)
        #expect(RequestParsing.error("GET / HTTP/1.1\r\nHost: h\r\n\(nineFields)X-10: v\r\n\r\n", limits: limits)?.status == 431)
    }

    @Test("a target over maxTargetBytes is refused with 414, even before its line ends")
    func longTarget() {
        let limits = HTTPLimits(maxHeaderBytes: 4096, maxTargetBytes: 1024)
        let target = "/" + String(repeating: "x", count: 1100)
        #expect(RequestParsing.error("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits)?.status == 414)
        #expect(RequestParsing.error("GET /" + String(repeating: "x", count: 5000), limits: limits)?.status == 414)
        #expect(RequestParsing.error("GET /\(String(repeating: "x", count: 1023)) HTTP/1.1\r\nHost: h\r\n\r\n", limits: limits) == nil)
    }

    @Test("a declared body over maxBodyBytes is refused with 413 as soon as the head is read")
    func declaredBodyTooLarge() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 100))
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n".bytes)
        #expect(throws: HTTPParseError(status: 413, reason: "declared body of 101 bytes is over the limit of 100")) { try parser.next() }
    }

    @Test("a chunked body is refused with 413 as soon as its chunks add up to more than maxBodyBytes")
    func chunkedBodyTooLarge() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 100))
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n\(String(repeating: "a", count: 50))\r\n".bytes)
        #expect(try parser.next() == nil)
        parser.append("33\r\n".bytes)
        let error = #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(error?.status == 413)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test("after an error the parser is dead and throws the same error again")
    func deadAfterError() {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("GET / HTTP/1.1\nHost: h\r\n\r\n".bytes)
        let first = #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append("GET / HTTP/1.1\r\nHost: h\r\n\r\n".bytes)
        let second = #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(first == second)
        #expect(!parser.hasPartialRequest)
    }

    @Test("trailers count against the header limits")
    func trailersCount() {
        let limits = HTTPLimits(maxHeaderCount: 3)
        let head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        #expect(RequestParsing.error(head + "A: 1\r\n\r\n", limits: limits) == nil)
        #expect(RequestParsing.error(head + "A: 1\r\nB: 2\r\n\r\n", limits: limits)?.status == 431)
        let small = HTTPLimits(maxHeaderBytes: 80)
        #expect(RequestParsing.error(head + "A: \(String(repeating: "x", count: 40))\r\n\r\n", limits: small)?.status == 431)
    }
}

@Suite("Expect: 100-continue")
struct ExpectContinueTests {
    @Test("the parser asks for 100 Continue once the head is read, until the server sends it or the body arrives")
    func continueFlow() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        #expect(!parser.expectsContinue)
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.expectsContinue)
        parser.continueSent()
        #expect(!parser.expectsContinue)
        parser.append("body".bytes)
        #expect(try parser.next()?.body == "body".bytes)
        #expect(!parser.expectsContinue)
    }

    @Test("no 100 Continue is wanted when the body is already complete, or from an HTTP/1.0 client")
    func noContinueNeeded() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok".bytes)
        #expect(try parser.next() != nil)
        #expect(!parser.expectsContinue)
        parser.append("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".bytes)
        #expect(try parser.next() == nil)
        #expect(!parser.expectsContinue)
    }

    @Test("a chunked body can be awaited with 100-continue too")
    func chunkedContinue() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.expectsContinue)
    }
}

@Suite("Keep-alive")
struct KeepAliveTests {
    @Test("whether the client keeps the connection depends on version and Connection tokens", arguments: [
        ("HTTP/1.1", nil, true),
        ("HTTP/1.1", "close", false),
        ("HTTP/1.1", "Upgrade, Close", false),
        ("HTTP/1.1", "keep-alive", true),
        ("HTTP/1.0", nil, false),
        ("HTTP/1.0", "Keep-Alive", true),
        ("HTTP/1.0", "keep-alive, close", false),
    ] as [(String, String?, Bool)])
    func keepAlive(version: String, connection: String?, keepsAlive: Bool) throws {
        let connectionLine = connection.map { "Connection: \($0)\r\n" } ?? ""
        let request = try #require(try RequestParsing.request("GET / \(version)\r\nHost: h\r\n\(connectionLine)\r\n"))
        #expect(request.head.keepAlive == keepsAlive)
    }
}

@Suite("Partial requests and buffering")
struct PartialRequestTests {
    @Test("an idle connection has no partial request; one byte of a request makes one")
    func partial() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        #expect(!parser.hasPartialRequest)
        parser.append("G".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.hasPartialRequest)
        #expect(parser.bufferedByteCount == 1)
    }

    @Test("head lines are consumed as they are read, so the buffer holds at most a line of the head")
    func consumedAsRead() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append("GET / HTTP/1.1\r\nHost: h\r\nX-Partial: ab".bytes)
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == "X-Partial: ab".utf8.count)
        #expect(parser.hasPartialRequest)
    }

    @Test("the same bytes give the same requests and errors however they are split", arguments: [1, 2, 3, 7, 64])
    func splitInvariance(pieceSize: Int) {
        let inputs = [
            "GET / HTTP/1.1\r\nHost: h\r\n\r\nPOST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /y HTTP/1.1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\nGET / HTTP/1.1\nHost: h\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nA: \u{1}\r\n\r\n",
        ]
        for input in inputs {
            let whole = RequestParsing.outcome(input.bytes, pieceSize: input.utf8.count)
            let split = RequestParsing.outcome(input.bytes, pieceSize: pieceSize)
            #expect(split.0 == whole.0)
            #expect(split.1 == whole.1)
        }
    }
}
