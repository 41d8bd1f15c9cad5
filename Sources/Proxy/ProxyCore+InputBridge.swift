import IO
import JSON
import JSONRPC

/// Multi Round-Trip Requests across eras.
///
/// A legacy server asks a modern client for input by sending it a request in mid-call; the
/// call is then held and the client is answered with an `InputRequiredResult` whose
/// `requestState` plugboard signs. A modern server asks a legacy client with an
/// `InputRequiredResult`; plugboard puts each input request to the client as a request of its
/// own and retries the call with the answers.
extension ProxyCore {
    // MARK: Modern client, legacy server

    /// The modern client's call that a legacy server's request belongs to.
    struct InputCause {
        let key: HeldCalls.Key
        /// The request in flight, when the call is not held already.
        let caller: (session: ClientSession, idText: [UInt8], meta: RequestMeta, method: String, params: JSONValue)?
    }

    /// A legacy server asked for input during a modern client's call.
    func bridgeInput(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection, cause: InputCause) {
        let upstreamIDText = Array(message[envelope.idRange!])
        let method = envelope.method ?? ""
        func refuse(_ reason: String, code: Int = JSONRPCErrorCode.methodNotFound) {
            log.notice("'\(upstream.name)' asked a modern client for \(method): \(reason)")
            upstream.sendResponse(JSONRPCMessage.error(idText: upstreamIDText, code: code, message: reason))
        }
        if method == MCPMethod.ping {
            return upstream.sendResponse(JSONRPCMessage.success(idText: upstreamIDText, result: .object([:])))
        }
        guard let capability = RequestMeta.capability(forInputMethod: method) else {
            return refuse("\(method) cannot be asked of a \(ProtocolVersion.latestModern) client")
        }
        let meta = cause.caller?.meta ?? heldCalls.calls[cause.key]?.meta
        guard meta?.clientCapabilities[capability] != nil else {
            return refuse("the client did not declare the \(capability) capability", code: JSONRPCErrorCode.invalidRequest)
        }
        let params = (try? JSONParser.parse(message))?["params"]
        let now = loop.now()
        let action = heldCalls.inputArrived(
            (upstreamIDText, method, params), for: cause.key,
            caller: cause.caller.map { (RequestStateToken.binding(method: $0.method, params: $0.params), $0.meta, $0.params) },
            now: now, timeout: config.limits.inputTimeout.nanoseconds)
        guard case .askClient(let inputs, let nonce, let expiresAt, let resumedFor) = action else { return }
        guard let target = resumedFor ?? cause.caller.map({ ($0.session, $0.idText) }) else { return }
        askForInput(inputs, nonce: nonce, expiresAt: expiresAt, key: cause.key, session: target.0, idText: target.1)
    }

    private func askForInput(_ inputs: [HeldCalls.Input], nonce: String, expiresAt: UInt64, key: HeldCalls.Key, session: ClientSession, idText: [UInt8]) {
        guard let call = heldCalls.calls[key] else { return }
        let state = stateTokens.mint(nonce: nonce, binding: call.binding, expiresAt: expiresAt)
        progress.closeAll(server: key.server, upstreamID: key.upstreamID)
        session.answer(idText, JSONRPCMessage.success(idText: idText, result: InputRequired.result(asking: inputs, requestState: state)), isError: false)
        log.debug("holding a call at '\(key.server)' for the client's input (\(inputs.map(\.method).joined(separator: ", ")))")
        scheduleHeldCallExpiry(at: expiresAt)
    }

    private func scheduleHeldCallExpiry(at deadline: UInt64) {
        let now = loop.now()
        loop.schedule(afterNanoseconds: deadline > now ? deadline - now : 0) { [weak self] in self?.expireHeldCalls() }
    }

    func expireHeldCalls() {
        for (key, call) in heldCalls.expire(now: loop.now()) {
            guard let upstream = upstream(named: key.server) else { continue }
            let reason = "the client did not retry with the input within limits.input_timeout (\(config.limits.inputTimeout))"
            log.notice("gave up a call held at '\(key.server)': \(reason)")
            for input in call.inputs {
                upstream.sendResponse(
                    JSONRPCMessage.error(idText: input.upstreamIDText, code: JSONRPCErrorCode.internalError, message: "No answer: \(reason)"))
            }
            upstream.cancel(key.upstreamID, reason: reason)
        }
    }

    /// A modern client retried a held call with the input it was asked for.
    func resumeHeldCall(state: String, method: String, params: JSONValue, meta: RequestMeta, idText: [UInt8], from session: ClientSession) {
        func reject(_ reason: String) {
            counters.invalidRequests += 1
            counters.rejectedRequestStates += 1
            log.notice("client \(session.label) retried \(method) with a requestState plugboard refused: \(reason)")
            session.answer(idText, JSONRPCMessage.error(idText: idText, code: JSONRPCErrorCode.invalidParams, message: "Invalid params for \(method): \(reason)"))
        }
        let binding = RequestStateToken.binding(method: method, params: params)
        let nonce: String
        switch stateTokens.verify(state, binding: binding, now: loop.now()) {
        case .success(let verified): nonce = verified
        case .failure(let rejection): return reject(rejection.description)
        }
        guard session.inFlight[idText] == nil else { return reject("id is already in use by a request in flight") }
        let responses = params["inputResponses"]?.objectValue ?? [:]
        let outcome = heldCalls.retry(
            nonce: nonce, responses: responses, session: session, idText: idText, now: loop.now(),
            timeout: config.limits.inputTimeout.nanoseconds)
        switch outcome {
        case .rejected(let reason):
            reject(reason)
        case .accepted(let key, let answers, let askAgain, let finalReply):
            guard let upstream = upstream(named: key.server) else {
                heldCalls.release(key)
                return session.answer(
                    idText, ProxyFailure.upstreamUnavailable(server: key.server, method: method, reason: "it was removed").response(idText: idText, era: .modern))
            }
            for (input, response) in answers {
                upstream.sendResponse(JSONRPCMessage.success(idText: input.upstreamIDText, result: response))
            }
            session.inFlight[idText] = ClientSession.InFlight(
                stage: .upstream(upstream, id: key.upstreamID, progressToken: nil),
                caller: .modern(ModernRequest(meta: meta, method: method, params: DeferredParams(params))))
            if let askAgain {
                askForInput(askAgain.inputs, nonce: askAgain.nonce, expiresAt: askAgain.expiresAt, key: key, session: session, idText: idText)
            } else if let finalReply {
                finishForward(finalReply, idText: idText, method: method, request: [], progressToken: nil, upstream: upstream, session: session, postProcess: nil)
            }
        }
    }

    // MARK: Legacy client, modern server

    /// A modern server answered a legacy client's call with an `InputRequiredResult`: each input
    /// request goes to the client as a request of plugboard's, then the call is retried.
    func fulfilInputs(
        _ result: JSONValue, request: [UInt8], idText: [UInt8], upstream: UpstreamConnection, session: ClientSession, postProcess: PostProcess?
    ) {
        guard session.inFlight[idText] != nil else { return }
        let method = Self.method(of: request)
        func fail(_ reason: String) {
            log.notice("'\(upstream.name)' needed input for \(method) that client \(session.label) could not give: \(reason)")
            session.answer(idText, JSONRPCMessage.error(idText: idText, code: JSONRPCErrorCode.internalError, message: reason, data: ["server": .string(upstream.name)]))
        }
        session.inFlight[idText]?.inputRounds += 1
        guard (session.inFlight[idText]?.inputRounds ?? 0) <= Self.maxInputRounds else {
            return fail("'\(upstream.name)' asked for input more than \(Self.maxInputRounds) times in one \(method)")
        }
        session.inFlight[idText]?.stage = .local
        let requests = result["inputRequests"]?.objectValue ?? [:]
        let requestState = result["requestState"]?.stringValue
        for (_, request) in requests {
            let inputMethod = request["method"]?.stringValue ?? ""
            guard let capability = RequestMeta.capability(forInputMethod: inputMethod) else {
                return fail("'\(upstream.name)' asked for \(inputMethod), which is not an input request")
            }
            guard session.clientCapabilities[capability] != nil else {
                return fail("'\(upstream.name)' asked for \(inputMethod), but this client did not declare the \(capability) capability")
            }
        }
        var responses: JSONObject = [:]
        var remaining = requests.count
        let retry = { [weak self, weak session] in
            guard let self, let session, session.inFlight[idText] != nil, var parsed = try? JSONParser.parse(request) else { return }
            var params = parsed["params"]?.objectValue ?? [:]
            params["inputResponses"] = responses.isEmpty ? nil : .object(responses)
            params["requestState"] = requestState.map { .string($0) }
            parsed.setParam(nil, to: .object(params))
            let bytes = parsed.serialized()
            guard let envelope = try? JSONRPCEnvelope.scan(bytes) else { preconditionFailure("a request the proxy serialized must scan") }
            self.forwardDirectly(bytes, envelope: envelope, idText: idText, to: upstream, from: session, postProcess: postProcess)
        }
        guard remaining > 0 else { return retry() }
        for (key, request) in requests {
            let inputMethod = request["method"]?.stringValue ?? ""
            let id = session.takeServerRequestID()
            session.serverRequests[id] = ClientSession.ServerRequest(
                asker: .bridge({ [weak session] answer in
                    guard let session, session.inFlight[idText] != nil else { return }
                    switch answer {
                    case .result(let value):
                        responses[key] = value
                        remaining -= 1
                        if remaining == 0 { retry() }
                    case .error(let error):
                        remaining = -1
                        fail("the client refused \(inputMethod): \(error["message"]?.stringValue ?? error.serializedString)")
                    }
                }),
                method: inputMethod)
            session.send(JSONRPCMessage.request(id: .number(id), method: inputMethod, params: request["params"]), relatedTo: idText)
        }
    }

    static let maxInputRounds = 16
}
