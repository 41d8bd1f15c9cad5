import Config
import JSON
import Testing

@testable import Plugins

@Suite("plugin outputs are validated against the contract")
struct PluginOutputValidationTests {
    @Test("nothing, null and an empty object mean no change")
    func noChange() throws {
        #expect(try PluginOutput.validate(nil, phase: .response).get() == .unchanged)
        #expect(try PluginOutput.validate(.null, phase: .request).get() == .unchanged)
        #expect(try PluginOutput.validate(.object([:]), phase: .response).get() == .unchanged)
    }

    @Test("text, continue, metadata and a soft error are read as given")
    func fields() throws {
        let output = try PluginOutput.validate(
            ["text": "short", "continue": false, "metadata": ["saved": 12], "error": "partial"], phase: .response
        ).get()
        #expect(output.change == .text("short"))
        #expect(output.continueChain == false)
        #expect(output.metadata == ["saved": 12])
        #expect(output.softError == "partial")
    }

    @Test("a request phase may leave state for its response phase, and any phase may replace the context")
    func stateAndContext() throws {
        let output = try PluginOutput.validate(["state": ["startedAt": "t"], "context": ["seen": true]], phase: .request).get()
        #expect(output.state == ["startedAt": "t"])
        #expect(output.context == ["seen": true])
        #expect(output.change == .none)
        let later = try PluginOutput.validate(["context": ["seen": false]], phase: .response).get()
        #expect(later.context == ["seen": false])
    }

    @Test("state from a response phase, a context that is no object, or either over 64 KiB is invalid")
    func stateAndContextLimits() {
        let big = JSONValue.string(String(repeating: "x", count: PluginOutput.maxCarriedBytes))
        let cases: [(JSONValue, PluginPhase, String)] = [
            (["state": 1], .response, "\"state\" can only be returned in the request phase"),
            (["context": [1, 2]], .request, "\"context\" must be an object"),
            (["state": big], .request, "\"state\" is \(PluginOutput.maxCarriedBytes + 2) bytes, over \(PluginOutput.maxCarriedBytes)"),
            (["context": ["big": big]], .response, "\"context\" is"),
        ]
        for (value, phase, expected) in cases {
            guard case .failure(let problem) = PluginOutput.validate(value, phase: phase) else {
                Issue.record("\(value.serializedString) should be invalid")
                continue
            }
            #expect(problem.reason.hasPrefix(expected), "\(problem.reason)")
        }
    }

    static let invalidOutputs: [(JSONValue, String)] = [
        (JSONValue.string("just text"), "expected an object"),
        (["txt": "typo"], "unknown field \"txt\""),
        (["text": 5], "\"text\" must be a string"),
        (["continue": "no"], "\"continue\" must be a boolean"),
        (["text": "a", "block": ["reason": "b"]], "only one of"),
        (["block": "no reason"], "\"block\" must be an object"),
        (["arguments": ["a": 1]], "only be returned in the request phase"),
        (["metadata": [1, 2]], "\"metadata\" must be an object"),
    ]

    @Test("invalid outputs are refused with a reason", arguments: invalidOutputs)
    func invalid(value: JSONValue, reason: String) {
        switch PluginOutput.validate(value, phase: .response) {
        case .success(let output): Issue.record("accepted \(value.serializedString) as \(output)")
        case .failure(let problem): #expect(problem.reason.contains(reason), "\(problem.reason)")
        }
    }

    @Test("a request may be rewritten with arguments or blocked; a response replaced with result")
    func structuredChanges() throws {
        #expect(try PluginOutput.validate(["arguments": ["q": "x"]], phase: .request).get().change == .arguments(["q": "x"]))
        #expect(try PluginOutput.validate(["block": ["reason": "no"]], phase: .request).get().change == .block(reason: "no"))
        #expect(try PluginOutput.validate(["result": ["content": []]], phase: .response).get().change == .result(["content": []]))
    }
}

@Suite("applying an output to a call")
struct PluginOutputApplierTests {
    let toolResult: JSONObject = [
        "content": [["type": "text", "text": "long text"], ["type": "image", "data": "AAAA", "mimeType": "image/png"]],
        "structuredContent": ["n": 1],
    ]

    @Test("response text replaces the text blocks and keeps images and structured content")
    func responseText() throws {
        let output = PluginOutput(change: .text("short"), continueChain: true, metadata: ["kept": 1], softError: nil)
        guard case .replaced(let result) = try PluginOutputApplier.apply(output, phase: .response, method: "tools/call", to: toolResult, plugin: "curate").get() else {
            Issue.record("not replaced")
            return
        }
        #expect(result["content"]?[0] == ["type": "text", "text": "short"])
        #expect(result["content"]?[1]?["type"] == "image")
        #expect(result["structuredContent"] == ["n": 1])
        #expect(result["_meta"]?["dev.plugboard/plugins"]?["curate"] == ["kept": 1])
    }

    @Test("request text must be a JSON object and replaces the arguments")
    func requestText() throws {
        let params: JSONObject = ["name": "search", "arguments": ["q": "old"]]
        let rewritten = PluginOutput(change: .text(#"{"q":"new"}"#), continueChain: true, metadata: nil, softError: nil)
        guard case .replaced(let result) = try PluginOutputApplier.apply(rewritten, phase: .request, method: "tools/call", to: params, plugin: "p").get() else {
            Issue.record("not replaced")
            return
        }
        #expect(result == ["name": "search", "arguments": ["q": "new"]])
        let broken = PluginOutput(change: .text("not json"), continueChain: true, metadata: nil, softError: nil)
        #expect(throws: InvalidPluginOutput.self) { try PluginOutputApplier.apply(broken, phase: .request, method: "tools/call", to: params, plugin: "p").get() }
    }

    @Test("text cannot rewrite a listing; result can")
    func listings() throws {
        let text = PluginOutput(change: .text("x"), continueChain: true, metadata: nil, softError: nil)
        #expect(throws: InvalidPluginOutput.self) { try PluginOutputApplier.apply(text, phase: .response, method: "tools/list", to: ["tools": []], plugin: "p").get() }
    }
}

@Suite("the input a plugin receives")
struct PluginInputTests {
    @Test("the response phase carries the tool's text, the query and the token budget")
    func responseInput() {
        let entry = PluginChainEntry(plugin: "curate", configJSON: #"{"max_tokens":500}"#, mode: .exec)
        let context = ChainContext(serverName: "docs", method: "tools/call", subject: "get-docs", requestID: "stdio-1")
        let input = PluginInput.build(
            entry: entry, phase: .response, context: context,
            params: ["name": "get-docs", "arguments": ["topic": "retries", "tokens": 9000]],
            result: ["content": [["type": "text", "text": "a"], ["type": "text", "text": "b"]]])
        #expect(input["toolName"] == "get-docs")
        #expect(input["rawContent"] == "a\nb")
        #expect(input["maxTokens"] == 500)
        #expect(input["metadata"]?["userQuery"] == "retries")
        #expect(input["metadata"]?["phase"] == "response")
        #expect(input["metadata"]?["requestId"] == "stdio-1")
        #expect(input["config"] == ["max_tokens": 500])
        #expect(input["result"]?["content"]?[1]?["text"] == "b")
    }

    @Test("a pool-mode response input leaves the text to the host to rebuild, so that it crosses the channel once")
    func poolResponseInput() {
        let context = ChainContext(serverName: "docs", method: "tools/call", subject: "get-docs", requestID: "r")
        let result: JSONObject = ["content": [["type": "text", "text": "a"]]]
        let pooled = PluginInput.build(entry: PluginChainEntry(plugin: "curate"), phase: .response, context: context, params: [:], result: result)
        #expect(pooled["rawContent"] == nil)
        #expect(pooled["result"] == .object(result))
        let listing = ChainContext(serverName: "docs", method: "tools/list", subject: nil, requestID: "r")
        let tools = PluginInput.build(entry: PluginChainEntry(plugin: "hide"), phase: .response, context: listing, params: [:], result: ["tools": []])
        #expect(tools["rawContent"] == #"{"tools":[]}"#, "only a result's texts joined are left to the host")
    }

    @Test("the request phase carries the arguments as JSON text; tokens may come from an argument")
    func requestInput() {
        let entry = PluginChainEntry(plugin: "guard")
        let context = ChainContext(serverName: "docs", method: "tools/call", subject: "get-docs", requestID: "r")
        let input = PluginInput.build(
            entry: entry, phase: .request, context: context, params: ["name": "get-docs", "arguments": ["tokens": 300]], result: nil)
        #expect(input["rawContent"] == #"{"tokens":300}"#)
        #expect(input["maxTokens"] == 300)
        #expect(input["result"] == nil)
    }
}
