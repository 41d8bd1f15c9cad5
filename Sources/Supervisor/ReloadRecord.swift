import JSON

/// What the last reload attempt did, for the status dump.
struct ReloadRecord {
    enum Outcome {
        case adopted(String)
        case rejected(String)
    }

    let reason: String
    let at: String
    let outcome: Outcome

    var status: JSONObject {
        switch outcome {
        case .adopted(let summary):
            ["reason": .string(reason), "at": .string(at), "result": "ok", "changes": .string(summary)]
        case .rejected(let error):
            ["reason": .string(reason), "at": .string(at), "result": "rejected", "error": .string(error)]
        }
    }
}
