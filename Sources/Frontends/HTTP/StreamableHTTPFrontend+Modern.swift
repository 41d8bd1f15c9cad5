import Cryptography
import HTTP
import IO
import JSON
import JSONRPC
import Network
import Proxy

/// One modern (2026-07-28) request over HTTP: a core session of its own that lives as long as
/// the POST. Its answer is JSON, or an SSE stream once something else must reach the client
/// first (progress, a subscription's notifications). Closing the stream cancels the request.
final class ModernCall {
    let id: JSONRPCID
    let exchange: HTTPExchange
    var client: ClientSession?
    private(set) var isStreaming = false

    init(id: JSONRPCID, exchange: HTTPExchange) {
        self.id = id
        self.exchange = exchange
    }

    /// Writes one message: the answer ends the exchange, anything else turns it into a stream.
    /// Returns true once the exchange is over.
    func deliver(_ message: [UInt8], status: (_ answer: [UInt8]) -> Int) -> Bool {
        let envelope = try? JSONRPCEnvelope.scan(message)
        let isAnswer = (envelope?.kind == .successResponse || envelope?.kind == .errorResponse) && envelope?.id == id
        if isAnswer && !isStreaming {
            var headers = HTTPHeaders()
            headers.set("Content-Type", "application/json")
            exchange.respond(status: status(message), headers: headers, body: message)
            return true
        }
        if !isStreaming {
            isStreaming = true
            var headers = HTTPHeaders()
            headers.set("Content-Type", "text/event-stream")
            headers.set("Cache-Control", "no-cache, no-transform")
            headers.set("X-Accel-Buffering", "no")
            exchange.beginStream(status: 200, headers: headers)
        }
        exchange.send(SSEEvent(data: String(decoding: message, as: UTF8.self)).encoded())
        if isAnswer { exchange.endStream() }
        return isAnswer
    }

    func sendKeepAlive() {
        if isStreaming && !exchange.isFinished { exchange.send(Array(":\n\n".utf8)) }
    }
}

extension StreamableHTTPFrontend {
    /// Whether a POST is a modern request: its body's `_meta` names a protocol version, or,
    /// with no session, its `MCP-Protocol-Version` header names a modern one.
    /// A request with no session whose `MCP-Protocol-Version` is not a legacy revision is taken
    /// as modern too, so an unknown version gets -32022 and the supported list, not a
    /// session-era refusal.
    static func isModern(body: [UInt8], envelope: JSONRPCEnvelope, headers: HTTPHeaders) -> Bool {
        guard envelope.kind == .request || envelope.kind == .notification else { return false }
        if headers["Mcp-Session-Id"] == nil, let version = headers["MCP-Protocol-Version"], !ProtocolVersion.legacy.contains(version) {
            return true
        }
        // Without a session, postModern's parse refuses a body whose `_meta` lacks the version; within
        // one, the key's bytes may sit inside another `_meta` value of a legacy request.
        guard headers["Mcp-Session-Id"] != nil else { return RequestMeta.mayBeModern(body, envelope: envelope) }
        return RequestMeta.namesProtocolVersion(body, envelope: envelope)
    }

    func postModern(_ exchange: HTTPExchange, envelope: JSONRPCEnvelope) {
        let body = exchange.request.body
        let headers = exchange.request.head.headers
        guard envelope.kind == .request, let id = envelope.id else {
            // 2026-07-28 defines no client notifications over HTTP; closing a stream cancels.
            record(status: 202)
            return exchange.respond(status: 202)
        }
        let meta = envelope.paramsMetaRange.flatMap { try? JSONParser.parse(body[$0]) }
        let request = MirroredFields(body: body, envelope: envelope, meta: meta)
        if let mismatch = Self.headerMismatch(headers: headers, request: request) {
            return fail(exchange, status: 400, "Header mismatch: \(mismatch)", code: JSONRPCErrorCode.headerMismatch, id: id)
        }
        guard meta?[RequestMeta.protocolVersionKey] != nil else {
            return fail(
                exchange, status: 400, "Invalid params: _meta[\"\(RequestMeta.protocolVersionKey)\"] is required (or send initialize to open a 2025-11-25 session)",
                code: JSONRPCErrorCode.invalidParams, id: id)
        }
        guard accepting else { return fail(exchange, status: 503, "plugboard is shutting down", code: JSONRPCErrorCode.internalError, id: id) }
        let call = ModernCall(id: id, exchange: exchange)
        nextModernCall += 1
        let client = core.openSession(label: "http:modern-\(nextModernCall)") { [unowned self, weak call] message in
            guard let call else { return }
            deliver(message, to: call)
        }
        call.client = client
        modernCalls[ObjectIdentifier(call)] = call
        exchange.onAbort = { [weak self, weak call] in
            guard let self, let call else { return }
            finish(call, reason: "the client closed the request's stream")
        }
        core.receive(body, from: client)
    }

    private func deliver(_ message: [UInt8], to call: ModernCall) {
        guard !call.exchange.isFinished else { return }
        let over = call.deliver(message) { [weak self] answer in
            let status = Self.status(ofModernAnswer: answer)
            self?.record(status: status)
            return status
        }
        if call.isStreaming && !over { return }
        if over { finish(call, reason: nil) }
    }

    private func finish(_ call: ModernCall, reason: String?) {
        guard modernCalls.removeValue(forKey: ObjectIdentifier(call)) != nil, let client = call.client else { return }
        call.client = nil
        // Deferred: the core may be delivering this very answer.
        loop.runBeforeNextWait { [core] in core.closeSession(client, reason: reason ?? "answered") }
    }

    /// The HTTP status of an answer the transport names one for (streamable-http.mdx).
    static func status(ofModernAnswer answer: [UInt8]) -> Int {
        guard let envelope = try? JSONRPCEnvelope.scan(answer), envelope.kind == .errorResponse,
            let code = (try? JSONParser.parse(answer))?["error"]?["code"]?.int64Value
        else { return 200 }
        switch Int(code) {
        case JSONRPCErrorCode.methodNotFound: return 404
        case JSONRPCErrorCode.unsupportedProtocolVersion, JSONRPCErrorCode.headerMismatch, JSONRPCErrorCode.missingRequiredClientCapability,
            JSONRPCErrorCode.invalidParams, JSONRPCErrorCode.invalidRequest:
            return 400
        default: return 200
        }
    }

    /// What is wrong with the request's mirrored headers, if anything.
    static func headerMismatch(headers: HTTPHeaders, request: MirroredFields) -> String? {
        let method = request.method
        let bodyVersion = request.protocolVersion
        guard let headerVersion = headers["MCP-Protocol-Version"] else { return "MCP-Protocol-Version header is required" }
        if let bodyVersion, bodyVersion != headerVersion {
            return "MCP-Protocol-Version header value '\(headerVersion)' does not match body value '\(bodyVersion)'"
        }
        guard let headerMethod = headers["Mcp-Method"] else { return "Mcp-Method header is required" }
        guard headerMethod == method else { return "Mcp-Method header value '\(headerMethod)' does not match body value '\(method)'" }
        guard let bodyName = request.name else { return nil }
        guard let raw = headers["Mcp-Name"] else { return "Mcp-Name header is required for \(method)" }
        guard let headerName = decodeHeaderValue(raw) else { return "Mcp-Name header value is not valid Base64" }
        guard headerName == bodyName else { return "Mcp-Name header value '\(headerName)' does not match body value '\(bodyName)'" }
        return nil
    }

    /// A mirrored header's value, decoded from the `=?base64?…?=` form when it uses it.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?") && value.hasSuffix("?=") && value.count >= 11 else { return value }
        let encoded = value.dropFirst(9).dropLast(2)
        guard let bytes = Base64.decoded(encoded) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    func sendModernKeepAlives() {
        for call in modernCalls.values { call.sendKeepAlive() }
    }

    /// Ends every modern request still open (shutdown).
    func finishModernCalls() {
        for call in Array(modernCalls.values) {
            if !call.exchange.isFinished {
                if call.isStreaming { call.exchange.endStream() } else {
                    fail(call.exchange, status: 503, "plugboard is stopping", code: JSONRPCErrorCode.internalError, id: call.id)
                }
            }
            finish(call, reason: "plugboard is stopping")
        }
    }
}

/// The body fields a modern HTTP request mirrors in its headers, read without parsing the whole body.
struct MirroredFields {
    let method: String
    let protocolVersion: String?
    /// The tool or prompt name, or the resource URI, for the methods that mirror one in `Mcp-Name`.
    let name: String?

    init(body: [UInt8], envelope: JSONRPCEnvelope, meta: JSONValue?) {
        method = envelope.method ?? ""
        protocolVersion = meta?[RequestMeta.protocolVersionKey]?.stringValue
        let params = envelope.paramsRange.map { body[$0] }
        func member(_ key: StaticString) -> String {
            params.flatMap { JSONMemberLocator.value(of: key, inObject: $0)?.stringValue } ?? ""
        }
        name =
            switch method {
            case MCPMethod.toolsCall, MCPMethod.promptsGet: member("name")
            case MCPMethod.resourcesRead: member("uri")
            default: nil
            }
    }
}
