import JSON
import JSONRPC
import Plugins

extension ProxyCore {
    /// Runs the server's request chain, forwards what it produced, and runs the response chain
    /// on the answer. Calls no chain entry applies to take the direct path unparsed.
    func forwardThroughPlugins(
        _ message: [UInt8], envelope: JSONRPCEnvelope, idText: [UInt8], to upstream: UpstreamConnection,
        from session: ClientSession, chain: PluginChain, postProcess: PostProcess?
    ) {
        let method = envelope.method ?? ""
        guard let parsed = try? JSONParser.parse(message) else {
            return forwardDirectly(message, envelope: envelope, idText: idText, to: upstream, from: session, postProcess: postProcess)
        }
        let params = parsed["params"]?.objectValue ?? [:]
        let context = ChainContext(
            serverName: upstream.name, method: method, subject: Self.chainSubject(method: method, params: params),
            requestID: "\(session.label)-\(nextChainRequestID)",
            clientProtocol: session.inFlight[idText].map { call in
                if case .modern(let request) = call.caller { return request.meta.protocolVersion }
                return session.negotiatedVersion
            },
            serverProtocol: upstream.protocolVersion)
        let requestEntries = PluginChain.entries(upstream.config.plugins.request, for: context)
        let responseEntries = PluginChain.entries(upstream.config.plugins.response, for: context)
        guard !(requestEntries.isEmpty && responseEntries.isEmpty) else {
            return forwardDirectly(message, envelope: envelope, idText: idText, to: upstream, from: session, postProcess: postProcess)
        }
        nextChainRequestID += 1
        let lease = chain.lease()
        let memory = CallMemory()

        let send = { [weak self, weak session] (params: JSONObject) in
            withExtendedLifetime(lease) {}
            guard let self, let session, session.inFlight[idText] != nil else { return }  // cancelled meanwhile
            let bytes: [UInt8]
            let rescanned: JSONRPCEnvelope
            if requestEntries.isEmpty {
                (bytes, rescanned) = (message, envelope)  // no request plugin: the client's bytes as they came
            } else {
                var request = parsed
                request.setParam(nil, to: .object(params))
                bytes = request.serialized()
                guard let scanned = try? JSONRPCEnvelope.scan(bytes) else { preconditionFailure("a request the proxy serialized must scan") }
                rescanned = scanned
            }
            let afterResponseChain: PostProcess? =
                responseEntries.isEmpty
                ? postProcess
                : { result, done in
                    withExtendedLifetime(lease) {}
                    let runChain = { (result: JSONValue) in
                        chain.runResponse(responseEntries, context: context, params: params, result: result.objectValue ?? [:], memory: memory) { outcome in
                            withExtendedLifetime(lease) {}  // held until the last plugin has answered
                            if case .blocked(let plugin, let reason) = outcome, method == MCPMethod.toolsCall {
                                return done(.success(Self.blockedToolResult(plugin: plugin, phase: .response, reason: reason)))
                            }
                            done(Self.failure(of: outcome, phase: .response).map { .failure($0) } ?? .success(Self.value(of: outcome)))
                        }
                    }
                    guard let postProcess else { return runChain(result) }
                    postProcess(result) { processed in
                        switch processed {
                        case .success(let result): runChain(result)
                        case .failure: done(processed)
                        }
                    }
                }
            self.forwardDirectly(bytes, envelope: rescanned, idText: idText, to: upstream, from: session, postProcess: afterResponseChain)
        }

        guard !requestEntries.isEmpty else { return send(params) }
        chain.runRequest(requestEntries, context: context, params: params, memory: memory) { [weak self, weak session] outcome in
            withExtendedLifetime(lease) {}
            guard let self, let session else { return }
            if case .blocked(let plugin, let reason) = outcome, method == MCPMethod.toolsCall, session.inFlight[idText] != nil {
                var result = Self.blockedToolResult(plugin: plugin, phase: .request, reason: reason)
                if session.inFlight[idText]?.caller.era == .modern { result = ResultShape.modern(result, method: method) }
                session.answer(idText, JSONRPCMessage.success(idText: idText, result: result))
                return
            }
            if let failure = Self.failure(of: outcome, phase: .request) {
                guard let call = session.inFlight[idText] else { return }
                session.answer(idText, failure.response(idText: idText, era: call.caller.era))
                return
            }
            send(Self.value(of: outcome).objectValue ?? params)
        }
    }

    /// A deliberate block of a tool call is the tool's answer, not a protocol error: the model
    /// reads the reason and can adapt.
    static func blockedToolResult(plugin: String, phase: PluginPhase, reason: String) -> JSONValue {
        let text = phase == .request ? "Blocked by plugin '\(plugin)': \(reason)" : "Result withheld by plugin '\(plugin)': \(reason)"
        return [
            "content": [["type": "text", "text": .string(text)]],
            "isError": true,
            "_meta": ["dev.plugboard/blocked": ["plugin": .string(plugin), "phase": .string(phase.rawValue), "reason": .string(reason)]],
        ]
    }

    /// The name or URI chain entries' `tools` globs are matched against.
    static func chainSubject(method: String, params: JSONObject) -> String? {
        switch method {
        case MCPMethod.toolsCall, MCPMethod.promptsGet: params["name"]?.stringValue
        case MCPMethod.resourcesRead: params["uri"]?.stringValue
        default: nil
        }
    }

    private static func failure(of outcome: ChainOutcome, phase: PluginPhase) -> ProxyFailure? {
        switch outcome {
        case .proceed: nil
        case .blocked(let plugin, let reason): .blockedByPlugin(plugin: plugin, phase: phase, reason: reason)
        case .failed(let failure): .plugin(failure)
        }
    }

    private static func value(of outcome: ChainOutcome) -> JSONValue {
        if case .proceed(let object) = outcome { return .object(object) }
        return .null
    }

    /// Runs an upstream's `tools/list` response chain on its complete (all pages) list.
    func applyListChain(_ items: [JSONValue], from upstream: UpstreamConnection, completion: @escaping (Result<[JSONValue], ProxyFailure>) -> Void) {
        let context = ChainContext(serverName: upstream.name, method: MCPMethod.toolsList, subject: nil, requestID: "list-\(nextChainRequestID)")
        guard let pluginChain else { return completion(.success(items)) }
        let entries = PluginChain.entries(upstream.config.plugins.response, for: context)
        guard !entries.isEmpty else { return completion(.success(items)) }
        nextChainRequestID += 1
        pluginChain.runResponse(entries, context: context, params: [:], result: ["tools": .array(items)]) { outcome in
            if let failure = Self.failure(of: outcome, phase: .response) { return completion(.failure(failure)) }
            completion(.success(Self.value(of: outcome)["tools"]?.arrayValue ?? []))
        }
    }
}
