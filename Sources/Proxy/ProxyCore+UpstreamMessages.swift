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
    private func relayServerRequest(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection, relatedRequest: Int64?) {
        let upstreamIDText = Array(message[envelope.idRange!])
        let method = envelope.method ?? ""
        // The transport may say which call the request belongs to (it came on that call's
        // stream). Otherwise JSON-RPC does not say: prefer a session with a call in flight at
        // this upstream (with one client, that is simply the client).
        var cause: (session: ClientSession, idText: [UInt8])?
        if let relatedRequest {
            for session in sessions where session.phase == .ready {
                if let call = session.inFlight.first(where: { $0.value.upstream === upstream && $0.value.upstreamID == relatedRequest }) {
                    cause = (session, call.key)
                    break
                }
            }
        }
        let busy = cause?.session ?? sessions.last { session in
            session.phase == .ready && session.inFlight.values.contains { $0.upstream === upstream }
        }
        guard let session = busy ?? sessions.last(where: { $0.phase == .ready }) else {
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
        session.serverRequests[id] = ClientSession.ServerRequest(upstream: upstream, upstreamIDText: upstreamIDText, method: method)
        session.send(replacingID(in: message, idRange: envelope.idRange!, with: UpstreamConnection.idText(id)), relatedTo: cause?.idText)
    }

    private func relayServerNotification(_ message: [UInt8], envelope: JSONRPCEnvelope, from upstream: UpstreamConnection) {
        switch envelope.method {
        case MCPMethod.progress:
            guard var parsed = try? JSONParser.parse(message), let token = parsed["params"]?["progressToken"] else { return }
            guard let route = progressRoutes[ProgressKey(server: upstream.name, token: token.serialized())] else {
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
                guard let (proxyID, _) = session.serverRequests.first(where: { $0.value.upstream === upstream && $0.value.upstreamIDText == idText })
                else { continue }
                session.serverRequests[proxyID] = nil
                parsed.setParam("requestId", to: .number(JSONNumber(proxyID)))
                session.send(parsed.serialized())
                return
            }
        default:
            // list_changed, logging messages, resource updates and anything newer reach every client.
            for session in sessions where session.phase == .ready { session.send(message) }
        }
    }
}
