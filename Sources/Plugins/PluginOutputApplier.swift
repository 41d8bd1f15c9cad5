import JSON

/// Applies one validated plugin output to the params (request phase) or result (response phase).
enum PluginOutputApplier {
    enum Applied {
        case replaced(JSONObject)
        case blocked(reason: String)
    }

    static let metadataKey = "dev.plugboard/plugins"

    static func apply(
        _ output: PluginOutput, phase: PluginPhase, method: String, to current: JSONObject, plugin: String
    ) -> Result<Applied, InvalidPluginOutput> {
        var next = current
        switch output.change {
        case .none:
            break
        case .block(let reason):
            return .success(.blocked(reason: reason))
        case .arguments(let arguments):
            next = withArguments(arguments, in: current, method: method)
        case .result(let result):
            next = result
        case .text(let text):
            switch phase {
            case .request:
                guard let parsed = try? JSONParser.parse(text), let arguments = parsed.objectValue else {
                    return .failure("in the request phase \"text\" must be the arguments as a JSON object")
                }
                next = withArguments(arguments, in: current, method: method)
            case .response:
                guard let replaced = withText(text, in: current, method: method) else {
                    return .failure("\"text\" cannot rewrite a \(method) result; return \"result\" instead")
                }
                next = replaced
            }
        }
        if phase == .response, let metadata = output.metadata {
            var meta = next["_meta"]?.objectValue ?? [:]
            var plugins = meta[metadataKey]?.objectValue ?? [:]
            plugins[plugin] = .object(metadata)
            meta[metadataKey] = .object(plugins)
            next["_meta"] = .object(meta)
        }
        return .success(.replaced(next))
    }

    private static func withArguments(_ arguments: JSONObject, in params: JSONObject, method: String) -> JSONObject {
        switch method {
        case "tools/call", "prompts/get":
            var copy = params
            copy["arguments"] = .object(arguments)
            return copy
        default:
            var copy = arguments
            if let meta = params["_meta"] { copy["_meta"] = meta }
            return copy
        }
    }

    /// The result with its text replaced: text blocks give way to one block holding `text`;
    /// images, audio, resources and `structuredContent` are kept as they were.
    private static func withText(_ text: String, in result: JSONObject, method: String) -> JSONObject? {
        var copy = result
        switch method {
        case "tools/call":
            let blocks = result["content"]?.arrayValue ?? []
            let others = blocks.filter { $0["type"]?.stringValue != "text" }
            copy["content"] = .array([["type": "text", "text": .string(text)]] + others)
        case "resources/read":
            let contents = result["contents"]?.arrayValue ?? []
            guard let first = contents.firstIndex(where: { $0["text"] != nil }), case .object(var item) = contents[first] else { return nil }
            item["text"] = .string(text)
            let blobs = contents.filter { $0["text"] == nil }
            copy["contents"] = .array([.object(item)] + blobs)
        default:
            return nil
        }
        return copy
    }
}
