import JSON
import JSONRPC

extension ProxyCore {
    /// A request or notification an upstream sent on its own initiative.
    func handleUpstreamMessage(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection, relatedRequest: Int64?) {
        switch envelope.kind {
        case .request: relayServerRequest(message, envelope: envelope, from: upstream, relatedRequest: relatedRequest)
        case .notification: relayServerNotification(message, envelope: envelope, from: upstream)
        case .successResponse, .errorResponse: break  // matched by the connection itself
        }
    }

    /// Server-to-client requests (sampling, elicitation, roots, ping) go to the client that is
    /// talking to the proxy, under an id of the proxy's; the answer goes back under the server's.
    /// When that client is modern, the request becomes an `InputRequiredResult` on its call.
    private func relayServerRequest(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection, relatedRequest: Int64?) {
        let upstreamIDText = Array(message[envelope.idRange!])
        let method = envelope.method ?? ""
        let cause = causeOfServerRequest(from: upstream, relatedRequest: relatedRequest)
        switch cause {
        case .held(let key):
            return bridgeInput(message, envelope: envelope, from: upstream, cause: InputCause(key: key, caller: nil))
        case .call(let session, let idText, let upstreamID):
            if case .modern(let request)? = session.inFlight[idText]?.caller {
                let key = HeldCalls.Key(server: upstream.name, upstreamID: upstreamID)
                return bridgeInput(
                    message, envelope: envelope, from: upstream,
                    cause: InputCause(key: key, caller: (session, idText, request.meta, request.method, request.params.value)))
            }
        case .none:
            break
        }
        var target: (session: ClientSession, idText: [UInt8]?)?
        if case .call(let session, let idText, _) = cause { target = (session, idText) }
        guard let (session, relatedTo) = target ?? sessions.last(where: { $0.phase == .ready }).map({ ($0, nil) }) else {
            if method == MCPMethod.ping {
                upstream.sendResponse(JSONRPCMessage.success(idText: upstreamIDText, result: .object([:])))
            } else {
                log.warning("'\(upstream.name)' sent \(method) but no client is connected")
                upstream.sendResponse(
                    JSONRPCMessage.error(
                        idText: upstreamIDText, code: JSONRPCErrorCode.internalError,
                        message: "No client is connected to plugboard to answer \(method)", data: nil))
            }
            return
        }
        let id = session.takeServerRequestID()
        session.serverRequests[id] = ClientSession.ServerRequest(asker: .upstream(upstream, idText: upstreamIDText), method: method)
        session.send(replacingID(in: message, idRange: envelope.idRange!, with: UpstreamConnection.idText(id)), relatedTo: relatedTo)
    }

    enum ServerRequestCause {
        case call(ClientSession, idText: [UInt8], upstreamID: Int64)
        case held(HeldCalls.Key)
        case none
    }

    /// Which call a server request belongs to. The transport may say (it came on that call's
    /// stream). Otherwise JSON-RPC does not say: the newest call in flight at this upstream,
    /// then the newest call held there for input.
    func causeOfServerRequest(from upstream: UpstreamConnection, relatedRequest: Int64?) -> ServerRequestCause {
        if let relatedRequest {
            let key = HeldCalls.Key(server: upstream.name, upstreamID: relatedRequest)
            if case .awaitingRetry? = heldCalls.calls[key]?.phase { return .held(key) }
            for session in sessions {
                if let call = session.inFlight.first(where: { $0.value.upstream === upstream && $0.value.upstreamID == relatedRequest }) {
                    return .call(session, idText: call.key, upstreamID: relatedRequest)
                }
            }
        }
        var newest: (session: ClientSession, idText: [UInt8], upstreamID: Int64)?
        for session in sessions {
            for (idText, call) in session.inFlight where call.upstream === upstream {
                guard let upstreamID = call.upstreamID else { continue }
                if newest == nil || upstreamID > newest!.upstreamID { newest = (session, idText, upstreamID) }
            }
        }
        if let newest { return .call(newest.session, idText: newest.idText, upstreamID: newest.upstreamID) }
        if let key = heldCalls.newestAwaiting(server: upstream.name) { return .held(key) }
        return .none
    }

    private func relayServerNotification(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection) {
        switch envelope.method {
        case MCPMethod.progress:
            guard var parsed = try? JSONParser.parse(message), let token = parsed["params"]?["progressToken"] else { return }
            guard let route = progress.route(server: upstream.name, token: token.serialized()) else {
                log.debug("progress from '\(upstream.name)' for token \(token.serializedString), which no request in flight carries")
                return
            }
            upstream.noteProgress(for: route.upstreamID)
            guard let clientToken = try? JSONParser.parse(route.clientToken) else { return }
            parsed.setParam("progressToken", to: clientToken)
            route.session.send(parsed.serialized())
        case MCPMethod.cancelled:
            // The server gave up on one of its own requests to the client.
            guard var parsed = try? JSONParser.parse(message), let requestID = parsed["params"]?["requestId"] else { return }
            let idText = requestID.serialized()
            for session in sessions {
                guard
                    let (proxyID, _) = session.serverRequests.first(where: {
                        if case .upstream(let asker, let askerID) = $0.value.asker { return asker === upstream && askerID == idText }
                        return false
                    })
                else { continue }
                session.serverRequests[proxyID] = nil
                parsed.setParam("requestId", to: .number(JSONNumber(proxyID)))
                session.send(parsed.serialized())
                return
            }
        case MCPMethod.subscriptionsAcknowledged:
            break  // the answer to plugboard's own subscription at a modern server
        case let method? where Self.changeNotifications.contains(method):
            switch method {
            case MCPMethod.toolsListChanged: listCache.invalidate(server: upstream.name, method: MCPMethod.toolsList)
            case MCPMethod.promptsListChanged: listCache.invalidate(server: upstream.name, method: MCPMethod.promptsList)
            case MCPMethod.resourcesListChanged:
                listCache.invalidate(server: upstream.name, method: MCPMethod.resourcesList)
                listCache.invalidate(server: upstream.name, method: MCPMethod.resourceTemplatesList)
            default: break
            }
            announce(method, params: (try? JSONParser.parse(message))?["params"])
        case let method? where TaskHandles.notifications.contains(method):
            var outgoing = message
            if case .aggregated(let separator) = exposure, var parsed = try? JSONParser.parse(message),
                let taskId = parsed["params"]?["taskId"]?.stringValue
            {
                parsed.setParam("taskId", to: .string(TaskHandles(separator: separator).exposed(taskId, of: upstream.name)))
                outgoing = parsed.serialized()
            }
            for session in sessions where session.phase == .ready { session.send(outgoing) }
        default:
            // Logging messages and anything newer reach every legacy client; a modern client
            // hears only what relates to its requests or its subscriptions.
            for session in sessions where session.phase == .ready { session.send(message) }
        }
    }
}
