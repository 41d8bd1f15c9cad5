import JSON

/// Calls of modern clients held open at a legacy server that asked for input in mid-call
/// (sampling, elicitation, roots). The client was answered with an `InputRequiredResult`; the
/// upstream call stays open until the client retries with the answers, or `input_timeout` ends it.
///
/// A value-type state machine: each transition says what the core must do.
struct HeldCalls {
    /// The upstream call: which server, under which of plugboard's ids.
    struct Key: Hashable {
        let server: String
        let upstreamID: Int64
    }

    /// A server request the client has yet to answer.
    struct Input: Equatable {
        let key: String
        let upstreamIDText: [UInt8]
        let method: String
        let params: JSONValue?
    }

    enum Phase {
        /// The client holds an `InputRequiredResult` and is expected to retry before `expiresAt`.
        case awaitingRetry(nonce: String, expiresAt: UInt64)
        /// The retry came; the call now answers it.
        case resumed(session: ClientSession, idText: [UInt8])
    }

    struct Call {
        let binding: [UInt8]
        let meta: RequestMeta
        let params: JSONValue
        var inputs: [Input] = []
        var inputsAsked = 0
        var phase: Phase
        /// The server answered while the client had not retried yet; the retry gets it.
        var finalReply: UpstreamReply?

        mutating func append(_ input: (upstreamIDText: [UInt8], method: String, params: JSONValue?)) {
            inputsAsked += 1
            inputs.append(Input(key: "input-\(inputsAsked)", upstreamIDText: input.upstreamIDText, method: input.method, params: input.params))
        }
    }

    private(set) var calls: [Key: Call] = [:]
    private var keysByNonce: [String: Key] = [:]
    private var nonceCounter: UInt64 = 0
    /// Calls given up because their client never retried.
    private(set) var expiredCount = 0

    var count: Int { calls.count }

    /// The newest held call at `server` still waiting for a retry, for a server request that
    /// does not say which call it belongs to.
    func newestAwaiting(server: String) -> Key? {
        calls.filter { key, call in
            guard key.server == server, case .awaitingRetry = call.phase else { return false }
            return true
        }.keys.max { $0.upstreamID < $1.upstreamID }
    }

    enum AskAction {
        /// Answer the client's request with an `InputRequiredResult` for `inputs`, under `nonce`:
        /// the request the call was resumed for, when it was, else the one in flight.
        case askClient(inputs: [Input], nonce: String, expiresAt: UInt64, resumedFor: (session: ClientSession, idText: [UInt8])?)
        /// The client already holds an `InputRequiredResult`; the input waits for its retry.
        case queued
    }

    /// A server request arrived for the call `key`, which runs for a modern client's request
    /// (`caller`, when it is not held yet: its binding, fields and params).
    mutating func inputArrived(
        _ input: (upstreamIDText: [UInt8], method: String, params: JSONValue?), for key: Key,
        caller: (binding: [UInt8], meta: RequestMeta, params: JSONValue)?, now: UInt64, timeout: UInt64
    ) -> AskAction {
        var call: Call
        var resumedFor: (session: ClientSession, idText: [UInt8])?
        if let existing = calls[key] {
            call = existing
            switch call.phase {
            case .awaitingRetry:
                call.append(input)
                calls[key] = call
                return .queued
            case .resumed(let session, let idText):
                resumedFor = (session, idText)
            }
        } else if let caller {
            call = Call(binding: caller.binding, meta: caller.meta, params: caller.params, phase: .awaitingRetry(nonce: "", expiresAt: 0))
        } else {
            preconditionFailure("an input for a call that is neither held nor in flight")
        }
        call.append(input)
        let (nonce, expiresAt) = awaitRetry(&call, key: key, now: now, timeout: timeout)
        calls[key] = call
        return .askClient(inputs: call.inputs, nonce: nonce, expiresAt: expiresAt, resumedFor: resumedFor)
    }

    private mutating func awaitRetry(_ call: inout Call, key: Key, now: UInt64, timeout: UInt64) -> (String, UInt64) {
        nonceCounter += 1
        let nonce = "\(key.server).\(key.upstreamID).\(nonceCounter)"
        let expiresAt = now + timeout
        call.phase = .awaitingRetry(nonce: nonce, expiresAt: expiresAt)
        keysByNonce[nonce] = key
        return (nonce, expiresAt)
    }

    enum RetryOutcome {
        case rejected(String)
        /// Send `answers` to the server; then, if `askAgain` is set, the client must answer more
        /// inputs first; else if `finalReply` is set the call is over; else it runs for the retry.
        case accepted(key: Key, answers: [(Input, JSONValue)], askAgain: (inputs: [Input], nonce: String, expiresAt: UInt64)?, finalReply: UpstreamReply?)
    }

    /// The client retried under `nonce` (verified by its token) with `responses`.
    mutating func retry(
        nonce: String, responses: JSONObject, session: ClientSession, idText: [UInt8], now: UInt64, timeout: UInt64
    ) -> RetryOutcome {
        guard let key = keysByNonce.removeValue(forKey: nonce), var call = calls[key] else {
            return .rejected("requestState was already used or its call has ended; call again without it")
        }
        guard case .awaitingRetry(let current, _) = call.phase, current == nonce else {
            return .rejected("requestState was already used; call again without it")
        }
        if let finalReply = call.finalReply {
            // The server finished without the input; what it asked is moot.
            calls[key] = nil
            return .accepted(key: key, answers: [], askAgain: nil, finalReply: finalReply)
        }
        var answers: [(Input, JSONValue)] = []
        var remaining: [Input] = []
        for input in call.inputs {
            if let response = responses[input.key] { answers.append((input, response)) } else { remaining.append(input) }
        }
        call.inputs = remaining
        if !remaining.isEmpty {
            let (newNonce, expiresAt) = awaitRetry(&call, key: key, now: now, timeout: timeout)
            calls[key] = call
            return .accepted(key: key, answers: answers, askAgain: (remaining, newNonce, expiresAt), finalReply: nil)
        }
        call.phase = .resumed(session: session, idText: idText)
        calls[key] = call
        return .accepted(key: key, answers: answers, askAgain: nil, finalReply: nil)
    }

    enum ReplyRoute {
        case notHeld
        case deliver(session: ClientSession, idText: [UInt8])
        case stashed
    }

    /// The server answered the call `key`.
    mutating func upstreamReplied(_ key: Key, _ reply: UpstreamReply) -> ReplyRoute {
        guard var call = calls[key] else { return .notHeld }
        switch call.phase {
        case .resumed(let session, let idText):
            calls[key] = nil
            return .deliver(session: session, idText: idText)
        case .awaitingRetry:
            call.finalReply = reply
            calls[key] = call
            return .stashed
        }
    }

    /// The request a resumed call answers was cancelled, or its client left.
    mutating func release(_ key: Key) {
        guard let call = calls.removeValue(forKey: key) else { return }
        if case .awaitingRetry(let nonce, _) = call.phase { keysByNonce[nonce] = nil }
    }

    /// Calls whose client has not retried by `now`: they are forgotten here and must be
    /// cancelled at their servers, and their unanswered inputs refused.
    mutating func expire(now: UInt64) -> [(Key, Call)] {
        var expired: [(Key, Call)] = []
        for (key, call) in calls {
            guard case .awaitingRetry(let nonce, let expiresAt) = call.phase, expiresAt <= now else { continue }
            calls[key] = nil
            keysByNonce[nonce] = nil
            expired.append((key, call))
        }
        expiredCount += expired.count
        return expired
    }
}
