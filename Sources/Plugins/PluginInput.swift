import Config
import Glibc
import JSON
import Logging

/// Builds the object a plugin receives (see docs/plugins.md for the contract).
enum PluginInput {
    /// Argument names that carry the user's question, in the order they are tried.
    static let queryArguments = ["query", "topic", "q", "question", "prompt", "search"]
    static let tokenArguments = ["tokens", "maxTokens", "max_tokens"]

    /// Where the plugin host can rebuild `rawContent` from the result (the texts joined), pool-mode
    /// inputs leave it out: the text then crosses the channel once, not twice.
    static let textMethods: Set<String> = ["tools/call", "resources/read", "prompts/get"]

    static func build(
        entry: PluginChainEntry, phase: PluginPhase, context: ChainContext, params: JSONObject, result: JSONObject?,
        state: JSONValue? = nil, shared: JSONObject = [:]
    ) -> JSONValue {
        let config = (try? JSONParser.parse(entry.configJSON)) ?? .object([:])
        let arguments = arguments(of: params, method: context.method)
        let hostRebuildsText = phase == .response && entry.mode == .pool && textMethods.contains(context.method)
        var input: JSONObject = [
            "toolName": context.method == "tools/call" ? context.subject.map(JSONValue.string) ?? .null : .null,
            "maxTokens": maxTokens(config: config, arguments: arguments).map { .number(JSONNumber($0)) } ?? .null,
            "metadata": [
                "requestId": .string(context.requestID),
                "timestamp": .string(timestamp()),
                "serverName": .string(context.serverName),
                "phase": .string(phase.rawValue),
                "userQuery": userQuery(config: config, arguments: arguments).map(JSONValue.string) ?? .null,
                "clientProtocol": context.clientProtocol.map(JSONValue.string) ?? .null,
                "serverProtocol": context.serverProtocol.map(JSONValue.string) ?? .null,
            ],
            "method": .string(context.method),
            "arguments": .object(arguments),
            "config": config,
        ]
        if !hostRebuildsText {
            input["rawContent"] = .string(phase == .request ? JSONValue.object(arguments).serializedString : rawContent(of: result ?? [:], method: context.method))
        }
        if context.method != "tools/call", let subject = context.subject { input["subject"] = .string(subject) }
        if let result { input["result"] = .object(result) }
        input["context"] = .object(shared)
        if phase == .response { input["state"] = state ?? .null }
        return .object(input)
    }

    /// What "arguments" means per method: `params.arguments` for calls and prompts, the
    /// params themselves (without `_meta`) otherwise.
    static func arguments(of params: JSONObject, method: String) -> JSONObject {
        switch method {
        case "tools/call", "prompts/get": return params["arguments"]?.objectValue ?? [:]
        default:
            var copy = params
            copy["_meta"] = nil
            return copy
        }
    }

    /// The text a plugin works on in the response phase.
    static func rawContent(of result: JSONObject, method: String) -> String {
        switch method {
        case "tools/call":
            return texts(in: result["content"]?.arrayValue ?? []).joined(separator: "\n")
        case "resources/read":
            return (result["contents"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        case "prompts/get":
            return texts(in: (result["messages"]?.arrayValue ?? []).compactMap { $0["content"] }).joined(separator: "\n")
        default:
            return JSONValue.object(result).serializedString
        }
    }

    private static func texts(in blocks: [JSONValue]) -> [String] {
        blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
    }

    private static func maxTokens(config: JSONValue, arguments: JSONObject) -> Int64? {
        if let value = config["max_tokens"]?.int64Value ?? config["maxTokens"]?.int64Value { return value }
        if let name = config["max_tokens_argument"]?.stringValue { return arguments[name]?.int64Value }
        return tokenArguments.lazy.compactMap { arguments[$0]?.int64Value }.first
    }

    private static func userQuery(config: JSONValue, arguments: JSONObject) -> String? {
        if let name = config["query_argument"]?.stringValue { return arguments[name]?.stringValue }
        return queryArguments.lazy.compactMap { arguments[$0]?.stringValue }.first
    }

    static func timestamp() -> String { Timestamp.now() }
}
