import JSON
import JSONRPC
import Testing

struct InvalidRequestCase: Sendable, CustomTestStringConvertible {
    let message: String
    let reason: String
    let id: JSONRPCID?
    var testDescription: String { message }
}

let invalidRequestCases: [InvalidRequestCase] = [
    .init(message: "[]", reason: "batches are not supported", id: nil),
    .init(message: #"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#, reason: "batches are not supported", id: nil),
    .init(message: "1", reason: "must be a JSON object", id: nil),
    .init(message: #""x""#, reason: "must be a JSON object", id: nil),
    .init(message: "{}", reason: #"missing "jsonrpc""#, id: nil),
    .init(message: #"{"id":4,"method":"x"}"#, reason: #"missing "jsonrpc""#, id: .number(4)),
    .init(message: #"{"jsonrpc":"1.0","id":3,"method":"x"}"#, reason: #""jsonrpc" must be "2.0""#, id: .number(3)),
    .init(message: #"{"jsonrpc":2.0,"id":"a","method":"x"}"#, reason: #""jsonrpc" must be "2.0""#, id: .string("a")),
    .init(message: #"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, reason: "must be a string or an integer", id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":1e2,"method":"x"}"#, reason: "must be a string or an integer", id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":99999999999999999999,"method":5}"#, reason: #""method" must be a string"#, id: .largeInteger("99999999999999999999")),
    .init(message: #"{"jsonrpc":"2.0","id":true,"method":"x"}"#, reason: "string, an integer or null", id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":{},"method":"x"}"#, reason: "string, an integer or null", id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":null,"method":"x"}"#, reason: "must not have a null", id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":1,"method":5}"#, reason: #""method" must be a string"#, id: .number(1)),
    .init(message: #"{"jsonrpc":"2.0","method":"x","params":3}"#, reason: #""params" must be an object or an array"#, id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":1,"method":"x","result":1}"#, reason: "must not carry", id: .number(1)),
    .init(message: #"{"jsonrpc":"2.0","id":1}"#, reason: #"must carry "result" or "error""#, id: .number(1)),
    .init(message: #"{"jsonrpc":"2.0","id":1,"result":1,"error":{}}"#, reason: "both", id: .number(1)),
    .init(message: #"{"jsonrpc":"2.0","id":null,"result":1}"#, reason: "success response must not have a null", id: nil),
    .init(message: #"{"jsonrpc":"2.0","result":1}"#, reason: #"must carry an "id""#, id: nil),
    .init(message: #"{"jsonrpc":"2.0"}"#, reason: #"needs a "method""#, id: nil),
    .init(message: #"{"jsonrpc":"2.0","id":"x","error":5}"#, reason: #""error" must be an object"#, id: .string("x")),
    .init(message: #"{"jsonrpc":"2.0","id":2,"result":{},"params":{}}"#, reason: #"must not carry "params""#, id: .number(2)),
]

@Suite("JSONRPCEnvelope")
struct JSONRPCEnvelopeTests {
    @Test("a request yields its method, id and the byte ranges of id and params")
    func request() throws {
        let message = Array(#"{ "jsonrpc" : "2.0", "id" : 17 , "method":"tools/call","params":{"name":"x","arguments":{}} }"#.utf8)
        let envelope = try JSONRPCEnvelope.scan(message)
        #expect(envelope.kind == .request)
        #expect(envelope.method == "tools/call")
        #expect(envelope.id == .number(17))
        #expect(!envelope.hasNullID)
        #expect(text(message, envelope.idRange) == "17")
        #expect(text(message, envelope.paramsRange) == #"{"name":"x","arguments":{}}"#)
        #expect(envelope.resultRange == nil && envelope.errorRange == nil)
    }

    @Test("an integer id beyond 64 bits is kept as its digits and written back as sent")
    func largeIntegerID() throws {
        let message = Array(#"{"jsonrpc":"2.0","id":-123456789012345678901234567890,"method":"ping"}"#.utf8)
        let envelope = try JSONRPCEnvelope.scan(message)
        #expect(envelope.kind == .request)
        #expect(envelope.id == .largeInteger("-123456789012345678901234567890"))
        #expect(envelope.id?.jsonText == "-123456789012345678901234567890")
        #expect(JSONRPCID(jsonValue: try JSONParser.parse("123456789012345678901234567890")) == .largeInteger("123456789012345678901234567890"))
        #expect(JSONRPCID(jsonValue: try JSONParser.parse("1.5")) == nil)
    }

    @Test("the id of a message cut short or nested too deeply is found when the members before it are intact")
    func idInPrefix() {
        func id(_ text: String) -> JSONRPCID? { JSONRPCEnvelope.id(inPrefix: Array(text.utf8)) }
        #expect(id(#"{"jsonrpc":"2.0","id":42,"result":{"content":[{"text":"xxxx"#) == .number(42))
        #expect(id(#"{ "jsonrpc" : "2.0", "result" : {"a":[1,{"b":"}]\"{"}]}, "id" : "req-\"7\"", "x"#) == .string(#"req-"7""#))
        #expect(id(#"{"jsonrpc":"2.0","result":"#+String(repeating: "[", count: 3000)+String(repeating: "]", count: 3000)+#","id":-5}"#) == .number(-5))
        #expect(id(#"{"jsonrpc":"2.0","id":4"#) == nil, "a number cut short is not trusted")
        #expect(id(#"{"jsonrpc":"2.0","result":{"id":3},"#) == nil, "only a top-level id counts")
        #expect(id(#"[{"id":1}]"#) == nil && id("") == nil && id(#"{"id":1.5,"#) == nil)
    }

    @Test("string ids are decoded, and their range covers the quoted token")
    func stringID() throws {
        let message = Array(#"{"jsonrpc":"2.0","id":"a\"b\u00e9","method":"ping"}"#.utf8)
        let envelope = try JSONRPCEnvelope.scan(message)
        #expect(envelope.id == .string("a\"bé"))
        #expect(text(message, envelope.idRange) == #""a\"b\u00e9""#)
        #expect(envelope.id?.jsonText == #""a\"bé""#)
    }

    @Test("notifications, success responses and error responses are told apart")
    func kinds() throws {
        let notification = try JSONRPCEnvelope.scan(Array(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8))
        #expect(notification.kind == .notification)
        #expect(notification.id == nil && notification.idRange == nil)

        let successBytes = Array(#"{"jsonrpc":"2.0","id":"s1","result":{"content":[]}}"#.utf8)
        let success = try JSONRPCEnvelope.scan(successBytes)
        #expect(success.kind == .successResponse)
        #expect(success.id == .string("s1"))
        #expect(text(successBytes, success.resultRange) == #"{"content":[]}"#)

        let errorBytes = Array(#"{"jsonrpc":"2.0","id":-3,"error":{"code":-32601,"message":"no"}}"#.utf8)
        let error = try JSONRPCEnvelope.scan(errorBytes)
        #expect(error.kind == .errorResponse)
        #expect(error.id == .number(-3))
        #expect(text(errorBytes, error.errorRange) == #"{"code":-32601,"message":"no"}"#)

        let nullBytes = Array(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#.utf8)
        let nullID = try JSONRPCEnvelope.scan(nullBytes)
        #expect(nullID.kind == .errorResponse)
        #expect(nullID.id == nil && nullID.hasNullID)
        #expect(text(nullBytes, nullID.idRange) == "null")
    }

    @Test("escaped member names and values are compared after unescaping")
    func escapedNames() throws {
        let envelope = try JSONRPCEnvelope.scan(Array(#"{"\u006asonrpc":"2\u002e0","\u0069d":1,"method":"m\/x"}"#.utf8))
        #expect(envelope.kind == .request)
        #expect(envelope.method == "m/x")
        #expect(envelope.id == .number(1))
    }

    @Test("valid JSON that is not a JSON-RPC message is an invalid request carrying the id when readable",
          arguments: invalidRequestCases)
    func invalidRequests(_ testCase: InvalidRequestCase) {
        do {
            let envelope = try JSONRPCEnvelope.scan(Array(testCase.message.utf8))
            Issue.record("accepted as \(envelope.kind)")
        } catch {
            guard case .invalidRequest(let reason, let id) = error else {
                Issue.record("expected invalidRequest, got \(error)")
                return
            }
            #expect(reason.contains(testCase.reason), "\(reason)")
            #expect(id == testCase.id)
            #expect(error.code == -32600)
        }
    }

    @Test("malformed JSON is a parse error with the same detail JSONParser gives", arguments: [
        #"{"jsonrpc":"2.0","id":1,"method":"x""#,
        #"{"jsonrpc":"2.0","id":1,"method":"x",}"#,
        #"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":[1,2,]}}"#,
        #"[1,"#,
        #"{"jsonrpc":"2.0","id":1,"method":"x"} {}"#,
        "",
        #"{"jsonrpc":"2.0","id":01,"method":"x"}"#,
    ])
    func parseErrors(_ message: String) throws {
        let bytes = Array(message.utf8)
        var parserError: JSONError?
        do { _ = try JSONParser.parse(bytes) } catch { parserError = error }
        let expected = try #require(parserError)
        #expect(throws: JSONRPCScanError.parseError(expected)) { try JSONRPCEnvelope.scan(bytes) }
        #expect(JSONRPCScanError.parseError(expected).code == -32700)
    }

    @Test("replacing the id changes only the id token's bytes")
    func replaceID() throws {
        let message = Array(#"{"jsonrpc":"2.0", "id" : "client-1" ,"method":"tools/call","params":{"text":"é😀\n\"id\":1"}}"#.utf8)
        let envelope = try JSONRPCEnvelope.scan(message)
        let idRange = try #require(envelope.idRange)
        let replaced = try #require(envelope.replacingID(in: message, with: JSONRPCID.number(12345).jsonBytes))
        let expected = Array(#"{"jsonrpc":"2.0", "id" : 12345 ,"method":"tools/call","params":{"text":"é😀\n\"id\":1"}}"#.utf8)
        #expect(replaced == expected)
        #expect(Array(replaced[..<idRange.lowerBound]) == Array(message[..<idRange.lowerBound]))
        #expect(Array(replaced[(idRange.lowerBound + 5)...]) == Array(message[idRange.upperBound...]))
        let rescanned = try JSONRPCEnvelope.scan(replaced)
        #expect(rescanned.id == .number(12345))
        #expect(rescanned.method == "tools/call")

        let back = JSONRPCEnvelope.replacingID(in: replaced, idRange: try #require(rescanned.idRange), with: Array(#""client-1""#.utf8))
        #expect(back == message)
        let notification = try JSONRPCEnvelope.scan(Array(#"{"jsonrpc":"2.0","method":"x"}"#.utf8))
        #expect(notification.replacingID(in: [], with: [UInt8(ascii: "1")]) == nil)
    }

    private func text(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        range.map { String(decoding: bytes[$0], as: UTF8.self) }
    }
}

@Suite("JSONRPCMessage")
struct JSONRPCMessageTests {
    @Test("builders write compact messages that scan back to what was built")
    func builders() throws {
        let request = JSONRPCMessage.request(id: .string("r\"1"), method: "tools/call", params: ["name": "echo"])
        #expect(String(decoding: request, as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":"r\"1","method":"tools/call","params":{"name":"echo"}}"#)
        let scanned = try JSONRPCEnvelope.scan(request)
        #expect(scanned.kind == .request && scanned.id == .string("r\"1") && scanned.method == "tools/call")

        #expect(String(decoding: JSONRPCMessage.notification(method: "notifications/progress"), as: UTF8.self)
            == #"{"jsonrpc":"2.0","method":"notifications/progress"}"#)
        #expect(String(decoding: JSONRPCMessage.success(idText: Array("7".utf8), result: ["ok": true]), as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":7,"result":{"ok":true}}"#)
        #expect(String(decoding: JSONRPCMessage.success(id: .number(-2), result: []), as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":-2,"result":[]}"#)
        let error = JSONRPCMessage.error(idText: nil, code: JSONRPCErrorCode.parseError, message: "bad \"json\"")
        #expect(String(decoding: error, as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad \"json\""}}"#)
        let withData = JSONRPCMessage.error(id: .number(3), code: JSONRPCErrorCode.requestTimeout, message: "timeout", data: ["ms": 100])
        #expect(String(decoding: withData, as: UTF8.self)
            == #"{"jsonrpc":"2.0","id":3,"error":{"code":-32001,"message":"timeout","data":{"ms":100}}}"#)
        #expect(try JSONRPCEnvelope.scan(withData).kind == .errorResponse)
        #expect(try JSONRPCEnvelope.scan(error).hasNullID)
    }

    @Test("error codes follow JSON-RPC 2.0 and the MCP SDK conventions")
    func codes() {
        #expect(JSONRPCErrorCode.parseError == -32700)
        #expect(JSONRPCErrorCode.invalidRequest == -32600)
        #expect(JSONRPCErrorCode.methodNotFound == -32601)
        #expect(JSONRPCErrorCode.invalidParams == -32602)
        #expect(JSONRPCErrorCode.internalError == -32603)
        #expect(JSONRPCErrorCode.requestTimeout == -32001)
        #expect(JSONRPCErrorCode.resourceNotFound == -32002)
    }
}
