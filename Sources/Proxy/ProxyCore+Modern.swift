import IO
import JSON
import JSONRPC

/// Requests of modern (2026-07-28) clients: no handshake, every request self-describing.
extension ProxyCore {
    /// A request whose `_meta` names a protocol version: validated, then served statelessly.
    func receiveModern(
        _ message: [UInt8], envelope: JSONRPCEnvelope, meta read: Result<RequestMeta, RequestMeta.Violation>,
        idText: [UInt8], from session: ClientSession
    ) {
        let method = envelope.method ?? ""
        let meta: RequestMeta
        switch read {
        case .success(let valid):
            meta = valid
        case .failure(.unsupportedVersion(let requested)):
            counters.invalidRequests += 1
            return session.answer(
                idText,
                JSONRPCMessage.error(
                    idText: idText, code: JSONRPCErrorCode.unsupportedProtocolVersion, message: "Unsupported protocol version",
                    data: ["supported": .array(ProtocolVersion.supported.map { .string($0) }), "requested": .string(requested)]))
        case .failure(.malformed(let reason)):
            counters.invalidRequests += 1
            return session.answer(
                idText, JSONRPCMessage.error(idText: idText, code: JSONRPCErrorCode.invalidParams, message: "Invalid params for \(method): \(reason)"))
        }
        session.sawModernRequest()
        startUpstreamsIfNeeded(standingFor: meta)
        if gate.isOpen { return handleModern(message, envelope: envelope, meta: meta, idText: idText, from: session) }
        whenUpstreamsSettled { [weak self, weak session] in
            guard let self, let session, session.phase != .closed else { return }
            self.handleModern(message, envelope: envelope, meta: meta, idText: idText, from: session)
        }
    }

    private func handleModern(
        _ message: [UInt8], envelope: JSONRPCEnvelope, meta: RequestMeta, idText: [UInt8], from session: ClientSession
    ) {
        let method = envelope.method ?? ""
        let params = DeferredParams(of: message, at: envelope.paramsRange)
        switch method {
        case MCPMethod.discover:
            counters.answeredLocally += 1
            session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object(discoverResult())))
        case MCPMethod.ping, MCPMethod.loggingSetLevel, MCPMethod.resourcesSubscribe, MCPMethod.resourcesUnsubscribe:
            session.answer(
                idText,
                JSONRPCMessage.error(
                    idText: idText, code: JSONRPCErrorCode.methodNotFound,
                    message: "Method not found: \(method) was removed in \(meta.protocolVersion)\(Self.replacement(of: method))"))
        case MCPMethod.subscriptionsListen:
            listen(params: params.value, idText: idText, from: session)
        default:
            if let paramsRange = envelope.paramsRange, message[paramsRange].contains(subsequence: Self.requestStateKeyBytes),
                let state = JSONMemberLocator.value(of: "requestState", inObject: message[paramsRange])?.stringValue,
                RequestStateToken.isPlugboards(state)
            {
                return resumeHeldCall(state: state, method: method, params: params.value, meta: meta, idText: idText, from: session)
            }
            accept(message, envelope: envelope, idText: idText, caller: .modern(ModernRequest(meta: meta, method: method, params: params)), from: session)
        }
    }

    private static let requestStateKeyBytes = Array("\"requestState\"".utf8)

    private static func replacement(of method: String) -> String {
        switch method {
        case MCPMethod.loggingSetLevel: " (set _meta[\"\(RequestMeta.logLevelKey)\"] on each request)"
        case MCPMethod.resourcesSubscribe, MCPMethod.resourcesUnsubscribe: " (use subscriptions/listen)"
        default: ""
        }
    }

    /// Legacy upstreams wait for a client to tell them what to announce; a modern client that
    /// comes first stands for the clients, as the first legacy client's `initialize` does.
    func startUpstreamsIfNeeded(standingFor meta: RequestMeta) {
        startUpstreamInitialization(with: meta.initializeParams)
    }

    /// Runs `body` once every upstream has answered its probe or handshake (or failed to).
    func whenUpstreamsSettled(_ body: @escaping () -> Void) {
        if gate.admit(body) { body() }
    }

    /// `server/discover`: every revision plugboard speaks, and the endpoint's capabilities and identity.
    func discoverResult() -> JSONObject {
        let ready = upstreams.filter(\.isReady)
        var result: JSONObject = [
            "resultType": "complete",
            "supportedVersions": .array(ProtocolVersion.supported.map { .string($0) }),
        ]
        switch exposure {
        case .transparent:
            let upstream = ready.first
            result["capabilities"] = .object(upstream?.capabilities ?? [:])
            if let instructions = upstream?.instructions, !instructions.isEmpty { result["instructions"] = .string(instructions) }
            result["_meta"] = [RequestMeta.serverInfoKey: upstream?.serverInfo ?? plugboardServerInfo(ready: ready)]
        case .aggregated:
            let aggregate = aggregatedCapabilities(ready: ready)
            result["capabilities"] = .object(aggregate.capabilities)
            result["instructions"] = .string(aggregate.instructions)
            result["_meta"] = [RequestMeta.serverInfoKey: plugboardServerInfo(ready: ready)]
        }
        // What plugboard serves changes as upstreams come and go: fresh for no longer than a list.
        result["ttlMs"] = 0
        result["cacheScope"] = "public"
        return result
    }
}

extension ClientSession {
    /// A modern request arrived: the connection serves that era (it may serve both).
    func sawModernRequest() {
        if era == nil { era = .modern }
    }
}
