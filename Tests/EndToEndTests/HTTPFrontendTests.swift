import Foundation
import Glibc
import JSON
import Processes
import Testing

/// `plugboard run --http`: MCP over Streamable HTTP, checked with raw HTTP/1.1 on a socket.
@Suite("serving MCP over Streamable HTTP", .serialized)
struct HTTPFrontendTests {
    /// A plugboard serving HTTP on a free port, with two demo upstreams aggregated.
    final class HTTPPlugboard {
        let plugboard: PlugboardUnderTest
        let port: Int

        init(extra: String = "", servers: [String] = ["alpha", "beta"], environment: [String: String] = [:]) throws {
            port = HTTPTestClient.freePort()
            let config = try TemporaryConfig.demo(servers: servers, extra: extra)
            plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--http", "127.0.0.1:\(port)"], environment: environment)
            let deadline = Date().addingTimeInterval(15)
            while deadline.timeIntervalSinceNow > 0 {
                if let client = try? HTTPTestClient(port: port) {
                    client.get("/healthz")
                    if (try? client.response(timeout: 2))?.status == 200 { return }
                }
                usleep(50_000)
            }
            throw TestTimeout(waitingFor: "plugboard to listen on port \(port)")
        }

        func client() throws -> HTTPTestClient { try HTTPTestClient(port: port) }

        /// Initializes a session and returns its id.
        func openSession(_ client: HTTPTestClient, version: String = "2025-11-25", capabilities: JSONValue = .object([:])) throws -> String {
            client.post(initializeRequest(version: version, capabilities: capabilities))
            let response = try client.response()
            #expect(response.status == 200)
            #expect(response.json?["result"]?["protocolVersion"]?.stringValue == version)
            let session = try #require(response.header("Mcp-Session-Id"))
            client.post(["jsonrpc": "2.0", "method": "notifications/initialized"], session: session, headers: ["MCP-Protocol-Version": version])
            #expect(try client.response().status == 202)
            return session
        }

        func initializeRequest(version: String = "2025-11-25", capabilities: JSONValue = .object([:])) -> JSONValue {
            [
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": ["protocolVersion": .string(version), "capabilities": capabilities, "clientInfo": ["name": "e2e", "version": "1"]],
            ]
        }
    }

    static func call(_ id: Int, _ tool: String, _ arguments: JSONValue, meta: JSONValue? = nil) -> JSONValue {
        var params: JSONObject = ["name": .string(tool), "arguments": arguments]
        if let meta { params["_meta"] = meta }
        return ["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": .object(params)]
    }

    @Test("a session initializes, lists the aggregated tools and calls both upstreams over keep-alive")
    func sessionLifecycle() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client)
        #expect(session.count == 32 && session.allSatisfy(\.isHexDigit))

        client.post(["jsonrpc": "2.0", "id": 2, "method": "tools/list"], session: session)
        let tools = try client.response().json?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(tools.contains("alpha__echo") && tools.contains("beta__echo"))

        for (id, upstream) in [(3, "alpha"), (4, "beta")] {
            client.post(Self.call(id, "\(upstream)__echo", ["text": .string("hi \(upstream)")]), session: session)
            let response = try client.response()
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.json?["id"] == .number(JSONNumber(id)))
            #expect(response.json?.firstText == "hi \(upstream)")
        }

        client.write("DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nMcp-Session-Id: \(session)\r\n\r\n")
        #expect(try client.response().status == 204)
        client.post(Self.call(5, "alpha__echo", ["text": "gone"]), session: session)
        #expect(try client.response().status == 404)
    }

    @Test("progress turns the POST into an SSE stream that ends with the response")
    func progressOverSSE() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client)
        client.post(Self.call(7, "beta__progress", ["steps": 3, "delay_ms": 5], meta: ["progressToken": "p-7"]), session: session)
        let response = try client.response()
        #expect(response.header("Content-Type") == "text/event-stream")
        let events = response.events
        #expect(events.filter { $0["method"] == "notifications/progress" && $0["params"]?["progressToken"] == "p-7" }.count == 3)
        #expect(events.last?["id"] == 7)
        #expect(HTTPTestClient.eventIDs(response.body).count == 4)
    }

    @Test("a sampling request reaches the session whose call caused it, and its answer goes back")
    func samplingOverSSE() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client, capabilities: ["sampling": .object([:])])
        client.post(Self.call(9, "alpha__sample", ["prompt": "say hi"]), session: session)
        let firstEvent = try client.response(untilEvents: 1)
        #expect(firstEvent.header("Content-Type") == "text/event-stream")
        let sampling = try #require(firstEvent.events.first)
        #expect(sampling["method"] == "sampling/createMessage")
        let answerer = try server.client()
        answerer.post(
            ["jsonrpc": "2.0", "id": sampling["id"]!,
             "result": ["role": "assistant", "content": ["type": "text", "text": "hi from the model"], "model": "test"]],
            session: session)
        #expect(try answerer.response().status == 202)
        let result = try #require(try client.moreEvents(1).first)
        #expect(result["id"] == 9)
        #expect(result.firstText?.contains("hi from the model") == true)
    }

    @Test("requests without a session, with an unknown one, a foreign Origin or a bad protocol version are refused")
    func refusals() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client)

        client.post(Self.call(2, "alpha__echo", ["text": "x"]))
        #expect(try client.response().status == 400)
        client.post(Self.call(3, "alpha__echo", ["text": "x"]), session: "0123456789abcdef0123456789abcdef")
        let unknown = try client.response()
        #expect(unknown.status == 404)
        #expect(unknown.json?["error"]?["code"] != nil)
        client.post(Self.call(4, "alpha__echo", ["text": "x"]), session: session, headers: ["Origin": "http://evil.example"])
        #expect(try client.response().status == 403)
        client.post(Self.call(5, "alpha__echo", ["text": "x"]), session: session, headers: ["Origin": "http://localhost:3000"])
        #expect(try client.response().status == 200)
        client.post(Self.call(6, "alpha__echo", ["text": "x"]), session: session, headers: ["MCP-Protocol-Version": "1999-01-01"])
        #expect(try client.response().status == 400)
        client.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try client.response().status == 406)
        client.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: \(session)\r\nContent-Length: 5\r\n\r\n{\"a\":")
        let malformed = try client.response()
        #expect(malformed.status == 400)
        #expect(malformed.json?["error"]?["code"] == -32700)
        client.write("POST /mcp HTTP/1.1\r\nHost: rebound.example:\(server.port)\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: \(session)\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try client.response().status == 421)
        client.get("/elsewhere")
        #expect(try client.response().status == 404)
    }

    @Test("a bearer token from the environment is required and compared, and never echoed")
    func bearerToken() throws {
        let server = try HTTPPlugboard(extra: "[http]\nauth_token_env = \"E2E_TOKEN\"\n", environment: ["E2E_TOKEN": "s3cret-token"])
        let client = try server.client()
        client.post(server.initializeRequest())
        let missing = try client.response()
        #expect(missing.status == 401)
        #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        client.post(server.initializeRequest(), headers: ["Authorization": "Bearer s3cret-tokem"])
        let wrong = try client.response()
        #expect(wrong.status == 401)
        #expect(!wrong.text.contains("s3cret"))
        client.post(server.initializeRequest(), headers: ["Authorization": "Bearer s3cret-token"])
        #expect(try client.response().status == 200)
        client.get("/healthz")
        #expect(try client.response().status == 200)
        client.get("/metrics")
        #expect(try client.response().status == 401)
    }

    @Test("malformed and oversized requests get their 4xx and the server keeps serving")
    func malformedRequests() throws {
        let server = try HTTPPlugboard(extra: "[http]\nmax_body_bytes = 2048\nmax_header_bytes = 1024\nheader_timeout = \"1s\"\n")
        let cases: [(String, Int)] = [
            ("GARBAGE\r\n\r\n", 400),
            ("GET /mcp HTTP/1.1\nHost: 127.0.0.1\n\n", 400),
            ("GET /mcp HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
            ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999\r\n\r\n", 413),
            ("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n", 431),
        ]
        for (request, status) in cases {
            let client = try server.client()
            client.write(request)
            let response = try client.response()
            #expect(response.status == status, "\(request.prefix(40).debugDescription)")
            #expect(client.isClosed(within: 2))
        }
        let slow = try server.client()
        slow.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        #expect(slow.isClosed(within: 4), "a request head trickling in is cut off after header_timeout")

        let client = try server.client()
        _ = try server.openSession(client)
    }

    @Test("pipelined requests on one connection are answered in order")
    func pipelining() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        client.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(try client.response().text == "ok\n")
        let ready = try client.response()
        #expect(ready.status == 200)
        #expect(ready.text.hasPrefix("ready"))
        #expect(try client.response().status == 404)
    }

    @Test("/metrics counts requests by method and outcome in Prometheus text format")
    func metrics() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client)
        client.post(Self.call(2, "alpha__echo", ["text": "x"]), session: session)
        _ = try client.response()
        client.post(Self.call(3, "alpha__fail", .object([:])), session: session)
        _ = try client.response()
        client.get("/metrics")
        let metrics = try client.response()
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = metrics.text
        #expect(text.contains("# TYPE plugboard_requests_total counter"))
        #expect(text.contains("plugboard_requests_total{method=\"tools/call\",outcome=\"ok\"} 1"))
        #expect(text.contains("plugboard_requests_total{method=\"tools/call\",outcome=\"error\"} 1"))
        #expect(text.contains("plugboard_request_duration_seconds_bucket{method=\"tools/call\",outcome=\"ok\",le=\"+Inf\"} 1"))
        #expect(text.contains("plugboard_upstream_up{server=\"alpha\",phase=\"ready\"} 1"))
        #expect(text.contains("plugboard_http_sessions 1"))
        client.get("/status")
        let status = try client.response()
        #expect(status.json?["http"]?["sessions"] == 1)
        #expect(!status.text.contains(session))
    }

    @Test("a dropped SSE stream resumes with Last-Event-ID and loses no event")
    func resumption() throws {
        let server = try HTTPPlugboard()
        let client = try server.client()
        let session = try server.openSession(client)
        client.post(Self.call(11, "alpha__progress", ["steps": 6, "delay_ms": 150], meta: ["progressToken": "r"]), session: session)
        let partial = try client.response(untilEvents: 1)
        let firstIDs = HTTPTestClient.eventIDs(partial.body)
        let lastSeen = try #require(firstIDs.last)
        close(client.descriptor)

        let resumed = try server.client()
        resumed.get("/mcp", headers: ["Accept": "text/event-stream", "Mcp-Session-Id": session, "Last-Event-ID": lastSeen])
        let rest = try resumed.response()
        #expect(rest.status == 200)
        let progress = (partial.events + rest.events).filter { $0["method"] == "notifications/progress" }
        #expect(progress.count == 6)
        #expect(rest.events.last?["id"] == 11)
        #expect(Set(firstIDs).isDisjoint(with: HTTPTestClient.eventIDs(rest.body)))
    }
}
