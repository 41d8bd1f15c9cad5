import JSON

/// A plugin's answer, validated: exactly one kind of change, or none.
public struct PluginOutput: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case none
        /// Replaces the text the plugin was given (`rawContent`).
        case text(String)
        /// Replaces the request's arguments.
        case arguments(JSONObject)
        /// Replaces the whole result.
        case result(JSONObject)
        /// Refuses the call (request phase) or withholds the result (response phase).
        case block(reason: String)
    }

    public var change: Change
    /// `continue: false` ends the chain after this plugin.
    public var continueChain: Bool
    public var metadata: JSONObject?
    /// A soft failure the plugin reported; the content stays as it was.
    public var softError: String?
    /// Request phase: handed to the same entry's response phase of this call as `input.state`.
    public var state: JSONValue?
    /// Replaces the object every entry of this call sees as `input.context`.
    public var context: JSONObject?

    public static let unchanged = PluginOutput(change: .none, continueChain: true, metadata: nil, softError: nil)

    public init(change: Change, continueChain: Bool, metadata: JSONObject?, softError: String?, state: JSONValue? = nil, context: JSONObject? = nil) {
        self.change = change
        self.continueChain = continueChain
        self.metadata = metadata
        self.softError = softError
        self.state = state
        self.context = context
    }

    /// The most a `state` or a `context` may take, serialized.
    public static let maxCarriedBytes = 64 * 1024

    static let allowedKeys: Set<String> = ["text", "continue", "metadata", "error", "arguments", "result", "block", "state", "context"]

    /// Checks what a plugin returned (nil or null: no change) against the contract.
    public static func validate(_ value: JSONValue?, phase: PluginPhase) -> Result<PluginOutput, InvalidPluginOutput> {
        guard let value, !value.isNull else { return .success(.unchanged) }
        guard let object = value.objectValue else {
            return .failure("expected an object (or nothing), found \(typeName(value))")
        }
        if let unknown = object.keys.first(where: { !allowedKeys.contains($0) }) {
            return .failure("unknown field \"\(unknown)\"; an output may have \(allowedKeys.sorted().joined(separator: ", "))")
        }
        var output = PluginOutput.unchanged
        if let flag = object["continue"] {
            guard let bool = flag.boolValue else { return .failure("\"continue\" must be a boolean, found \(typeName(flag))") }
            output.continueChain = bool
        }
        if let metadata = object["metadata"] {
            guard let table = metadata.objectValue else { return .failure("\"metadata\" must be an object, found \(typeName(metadata))") }
            output.metadata = table
        }
        if let error = object["error"], !error.isNull {
            guard let text = error.stringValue else { return .failure("\"error\" must be a string, found \(typeName(error))") }
            output.softError = text
        }
        if let state = object["state"], !state.isNull {
            guard phase == .request else { return .failure("\"state\" can only be returned in the request phase (the response phase receives it)") }
            let size = state.serialized().count
            guard size <= PluginOutput.maxCarriedBytes else { return .failure("\"state\" is \(size) bytes, over \(PluginOutput.maxCarriedBytes)") }
            output.state = state
        }
        if let context = object["context"], !context.isNull {
            guard let table = context.objectValue else { return .failure("\"context\" must be an object, found \(typeName(context))") }
            let size = context.serialized().count
            guard size <= PluginOutput.maxCarriedBytes else { return .failure("\"context\" is \(size) bytes, over \(PluginOutput.maxCarriedBytes)") }
            output.context = table
        }
        let changes = ["text", "arguments", "result", "block"].filter { object[$0] != nil && object[$0]?.isNull == false }
        guard changes.count <= 1 else {
            return .failure("only one of text, arguments, result and block may be given, found \(changes.joined(separator: " and "))")
        }
        switch changes.first {
        case "text":
            guard let text = object["text"]?.stringValue else { return .failure("\"text\" must be a string, found \(typeName(object["text"]!))") }
            output.change = .text(text)
        case "arguments":
            guard phase == .request else { return .failure("\"arguments\" can only be returned in the request phase") }
            guard let arguments = object["arguments"]?.objectValue else { return .failure("\"arguments\" must be an object") }
            output.change = .arguments(arguments)
        case "result":
            guard phase == .response else { return .failure("\"result\" can only be returned in the response phase") }
            guard let result = object["result"]?.objectValue else { return .failure("\"result\" must be an object") }
            output.change = .result(result)
        case "block":
            guard let reason = object["block"]?["reason"]?.stringValue else {
                return .failure("\"block\" must be an object with a string \"reason\"")
            }
            output.change = .block(reason: reason)
        default:
            break
        }
        return .success(output)
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Why an output breaks the contract, as a sentence for the log and the client.
public struct InvalidPluginOutput: Error, ExpressibleByStringInterpolation {
    public let reason: String
    public init(stringLiteral value: String) { reason = value }
    public init(stringInterpolation: DefaultStringInterpolation) { reason = String(stringInterpolation: stringInterpolation) }
}
