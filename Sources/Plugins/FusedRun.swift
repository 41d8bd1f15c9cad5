import Config
import JSON

/// Consecutive entries of one chain whose plugins share a worker, run there in one round trip:
/// the host applies each plugin's output before the next one runs (plugin-host.mjs, "Fused runs")
/// and answers with a report per step, so that what each plugin did is still told apart.
enum FusedRun {
    /// One entry of the run, with the `state` its request-phase counterpart left (response phase).
    struct Step {
        let entry: PluginChainEntry
        let state: JSONValue?
        let timeout: TimeSpan
    }

    /// What failures of a run as a whole are put to: its plugins in order.
    static func name(of steps: [Step]) -> String { steps.map(\.entry.plugin).joined(separator: " → ") }

    /// The `run` message's body. `input` is the first step's input, built as for a call of its
    /// own; `current` is the request's params (the request phase works on them, and the input
    /// holds only their arguments).
    static func body(phase: PluginPhase, method: String, steps: [Step], input: JSONValue, current: JSONObject?, measure: Bool) -> JSONObject {
        var body: JSONObject = [
            "phase": .string(phase.rawValue),
            "method": .string(method),
            "steps": .array(
                steps.map { step in
                    var object: JSONObject = [
                        "plugin": .string(step.entry.plugin),
                        "config": (try? JSONParser.parse(step.entry.configJSON)) ?? .object([:]),
                        "onError": .string(step.entry.onError.rawValue),
                        "timeoutMs": .number(JSONNumber(step.timeout.milliseconds)),
                    ]
                    if let state = step.state { object["state"] = state }
                    return .object(object)
                }),
            "input": input,
        ]
        if let current { body["current"] = .object(current) }
        if measure { body["measure"] = true }
        return body
    }

    /// What the host answered.
    struct Reply {
        struct Report {
            let plugin: String
            let milliseconds: Double
            /// "ok", "unchanged", "blocked", or a failure kind's name.
            let outcome: String
            let failure: PluginFailure.Kind?
            let metadata: JSONObject?
            let state: JSONValue?
            /// A soft error the plugin reported; its change was not applied.
            let warning: String?
            let bytesIn: Int
            let bytesOut: Int
        }

        enum End: Equatable {
            /// Every step ran, or `stopped`: one returned `continue: false`.
            case proceed(stopped: Bool)
            case blocked(reason: String)
            /// The last report's failure ends the chain (its entry's `on_error` is "fail").
            case failed
        }

        let reports: [Report]
        let end: End
        let context: JSONObject?
        /// What the last step left; nil when no step changed anything.
        let current: JSONObject?
    }

    /// Reads a `ran` message; nil when it is not one the host could have sent.
    static func reply(_ message: JSONValue, steps: [Step]) -> Reply? {
        guard let list = message["reports"]?.arrayValue, list.count <= steps.count, let end = message["end"] else { return nil }
        var reports: [Reply.Report] = []
        for (item, step) in zip(list, steps) {
            guard item["plugin"]?.stringValue == step.entry.plugin, let outcome = item["outcome"]?.stringValue else { return nil }
            reports.append(
                Reply.Report(
                    plugin: step.entry.plugin, milliseconds: item["ms"]?.doubleValue ?? 0, outcome: outcome, failure: failure(item["failure"]),
                    metadata: item["metadata"]?.objectValue, state: item["state"].flatMap { $0.isNull ? nil : $0 },
                    warning: item["warning"]?.stringValue, bytesIn: item["bytesIn"]?.int64Value.map(Int.init) ?? 0,
                    bytesOut: item["bytesOut"]?.int64Value.map(Int.init) ?? 0))
        }
        let ending: Reply.End
        switch end["kind"]?.stringValue {
        case "proceed": ending = .proceed(stopped: end["stopped"]?.boolValue ?? false)
        case "blocked":
            guard let reason = end["reason"]?.stringValue, reports.last?.outcome == "blocked" else { return nil }
            ending = .blocked(reason: reason)
        case "failed":
            guard reports.last?.failure != nil else { return nil }
            ending = .failed
        default: return nil
        }
        let current = message["current"].flatMap { $0.isNull ? nil : $0.objectValue }
        if let value = message["current"], !value.isNull, current == nil { return nil }
        return Reply(reports: reports, end: ending, context: message["context"]?.objectValue, current: current)
    }

    /// Whether a step of the run timed out: its worker may still be busy with it.
    static func timedOut(_ message: JSONValue?) -> Bool {
        message?["reports"]?.arrayValue?.contains { $0["outcome"]?.stringValue == "timeout" } ?? false
    }

    private static func failure(_ value: JSONValue?) -> PluginFailure.Kind? {
        guard let value, let kind = value["kind"]?.stringValue else { return nil }
        let message = value["message"]?.stringValue ?? ""
        switch kind {
        case "thrown": return .threw(message: message)
        case "invalid_output": return .invalidOutput(reason: message)
        case "timeout": return .timedOut(seconds: value["seconds"]?.doubleValue ?? 0)
        case "no_hook": return .noHook
        default: return .threw(message: "\(kind): \(message)")
        }
    }
}
