import HTTP
import Testing

@Suite("Header fields")
struct HTTPHeadersTests {
    @Test("lookups ignore case; order and original case are kept")
    func lookups() {
        let headers = HTTPHeaders([("Accept", "a"), ("X-One", "1"), ("accept", "b")])
        #expect(headers["ACCEPT"] == "a")
        #expect(headers.values(for: "accept") == ["a", "b"])
        #expect(headers.contains("x-one"))
        #expect(!headers.contains("X-Two"))
        #expect(headers.map(\.name) == ["Accept", "X-One", "accept"])
    }

    @Test("set replaces every field of the name in place of the first; remove drops them all")
    func setAndRemove() {
        var headers = HTTPHeaders([("A", "1"), ("B", "2"), ("a", "3")])
        headers.set("A", "new")
        #expect(headers == HTTPHeaders([("A", "new"), ("B", "2")]))
        headers.set("C", "3")
        #expect(headers.map(\.name) == ["A", "B", "C"])
        headers.remove("b")
        #expect(headers.map(\.name) == ["A", "C"])
        headers.add("A", "again")
        #expect(headers.values(for: "a") == ["new", "again"])
    }

    @Test("tokens splits list fields, trims, lowercases, drops parameters and empty elements")
    func tokens() {
        let headers = HTTPHeaders([("Accept", "Application/JSON; q=0.9 , text/event-stream,,"), ("accept", " ;q=1, */*")])
        #expect(headers.tokens(for: "accept") == ["application/json", "text/event-stream", "*/*"])
        #expect(HTTPHeaders([("Connection", "Keep-Alive, Upgrade")]).tokens(for: "Connection") == ["keep-alive", "upgrade"])
        #expect(HTTPHeaders().tokens(for: "Connection").isEmpty)
    }
}

@Suite("Writing heads and bodies")
struct SerializationTests {
    @Test("a response head is written as status line, fields and an empty line")
    func responseHead() {
        let head = HTTPResponseHead(status: 404, headers: ["Content-Length": "0"])
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("a request head is written as the client sends it")
    func requestHead() {
        let head = HTTPRequestHead(method: "POST", target: "/mcp?x=1", version: .http1_1, headers: ["Host": "h:1", "Content-Length": "2"])
        #expect(String(decoding: head.serialized(), as: UTF8.self) == "POST /mcp?x=1 HTTP/1.1\r\nHost: h:1\r\nContent-Length: 2\r\n\r\n")
        #expect(head.path == "/mcp")
        #expect(head.query == "x=1")
    }

    @Test("a header value with CR or LF cannot inject a field of its own")
    func injection() throws {
        let head = HTTPResponseHead(status: 200, headers: ["X-Echo": "a\r\nSet-Cookie: evil", "Content-Length": "0"])
        var parser = HTTPResponseParser(limits: HTTPLimits())
        parser.expectResponse(toMethod: "GET")
        parser.append(head.serialized())
        guard case .head(let parsed) = try parser.nextEvents().first else { Issue.record("no head"); return }
        #expect(!parsed.headers.contains("Set-Cookie"))
        #expect(parsed.headers["X-Echo"] == "a  Set-Cookie: evil")
    }

    @Test("serialized requests parse back to the same head")
    func requestRoundTrip() throws {
        var head = HTTPRequestHead(method: "GET", target: "/", headers: ["Host": "example.com", "Accept": "text/event-stream"])
        head.target = "/sse?x=1"
        #expect(head.path == "/sse")
        var parser = HTTPRequestParser(limits: HTTPLimits())
        parser.append(head.serialized())
        #expect(try parser.next()?.head == head)
    }

    @Test("chunks carry their hexadecimal size; an empty chunk writes nothing, since it would end the body")
    func chunks() {
        #expect(String(decoding: HTTPChunkedEncoding.chunk(Array(repeating: 0x61, count: 26)), as: UTF8.self) == "1a\r\n" + String(repeating: "a", count: 26) + "\r\n")
        #expect(HTTPChunkedEncoding.chunk([]).isEmpty)
        #expect(HTTPChunkedEncoding.lastChunk == "0\r\n\r\n".bytes)
    }

    @Test("every status the proxy sends has its standard reason phrase", arguments: [
        (200, "OK"), (202, "Accepted"), (204, "No Content"), (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
        (404, "Not Found"), (405, "Method Not Allowed"), (406, "Not Acceptable"), (408, "Request Timeout"), (409, "Conflict"),
        (413, "Content Too Large"), (414, "URI Too Long"), (415, "Unsupported Media Type"), (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"), (500, "Internal Server Error"), (501, "Not Implemented"), (502, "Bad Gateway"),
        (503, "Service Unavailable"), (504, "Gateway Timeout"), (505, "HTTP Version Not Supported"), (299, "Success"), (42, ""),
    ])
    func reasonPhrases(status: Int, phrase: String) {
        #expect(HTTPStatus.reasonPhrase(for: status) == phrase)
    }
}
