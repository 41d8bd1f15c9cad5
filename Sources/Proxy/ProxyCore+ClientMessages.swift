import CSystemShims
#if canImport(Glibc)
import Glibc
#endif
import Config
import IO
import JSON
import JSONRPC

extension ProxyCore {
    /// One message from a client, exactly as framed.
    public func receive(_ message: [UInt8], from session: ClientSession) {
        if session.negotiatedVersion == ProtocolVersion.batching, Self.isBatch(message) { return receiveBatch(message, from: session) }
        let envelope: JSONRPCEnvelope
        do {
            envelope = try JSONRPCEnvelope.scan(message)
        } catch {
            rejectUnreadable(message, error: error, from: session)
            return
        }
        switch envelope.kind {
        case .request:
            let idText = Array(message[envelope.idRange!])
            guard session.receive(idText, method: envelope.method ?? "") == .opened else {
                return refuseDuplicate(idText, from: session)
            }
            if phase != .serving && envelope.method != MCPMethod.ping {
                session.answer(idText, ProxyFailure.shuttingDown(method: envelope.method ?? "").response(idText: idText))
                return
            }
            if envelope.method != MCPMethod.initialize, let meta = metaReader.read(message, envelope: envelope) {
                return receiveModern(message, envelope: envelope, meta: meta, idText: idText, from: session)
            }
        case .notification:
            counters.notifications += 1
        case .successResponse, .errorResponse:
            break
        }
        if session.phase == .initializing && !Self.isHandshake(envelope.method) {
            session.deferred.append((message, envelope))
            return
        }
        dispatch(message, envelope: envelope, from: session)
    }

    private static func isBatch(_ message: [UInt8]) -> Bool {
        message.first { $0 != 0x20 && $0 != 0x09 } == UInt8(ascii: "[")
    }

    /// A JSON-RPC batch, which 2025-03-26 (alone) requires servers to accept: each member is
    /// handled as if it had come alone, and the answers to its requests return as one array.
    private func receiveBatch(_ message: [UInt8], from session: ClientSession) {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(message) } catch { return rejectUnreadable(message, error: .parseError(error), from: session) }
        guard let members = parsed.arrayValue else { return }
        guard !members.isEmpty, members.count <= Self.maxBatchMembers else {
            counters.invalidRequests += 1
            let reason = members.isEmpty ? "an empty batch" : "a batch of \(members.count) members (at most \(Self.maxBatchMembers))"
            return session.send(JSONRPCMessage.error(idText: nil, code: JSONRPCErrorCode.invalidRequest, message: "Invalid Request: \(reason)", data: nil))
        }
        var forwarded: [[UInt8]] = []
        var requestIDs: [[UInt8]] = []
        var refusals: [[UInt8]] = []
        for member in members {
            let bytes = member.serialized()
            func refuse(_ reason: String, id: [UInt8]?) {
                counters.invalidRequests += 1
                refusals.append(JSONRPCMessage.error(idText: id, code: JSONRPCErrorCode.invalidRequest, message: "Invalid Request: \(reason)", data: nil))
            }
            do {
                let envelope = try JSONRPCEnvelope.scan(bytes)
                if envelope.kind == .request {
                    let idText = Array(bytes[envelope.idRange!])
                    if envelope.method == MCPMethod.initialize {
                        refuse("initialize must not be part of a JSON-RPC batch", id: idText)
                        continue
                    }
                    if requestIDs.contains(idText) || session.inFlight[idText] != nil {
                        refuse("id \(String(decoding: idText, as: UTF8.self)) is already in use", id: idText)
                        continue
                    }
                    requestIDs.append(idText)
                }
                forwarded.append(bytes)
            } catch {
                switch error {
                case .parseError(let detail): refuse("\(detail)", id: nil)
                case .invalidRequest(let reason, let id): refuse(reason, id: id?.jsonBytes)
                }
            }
        }
        log.debug("client \(session.label) sent a batch of \(members.count)")
        session.beginBatch(requestIDs: requestIDs, answered: refusals)
        for bytes in forwarded { receive(bytes, from: session) }
    }

    static let maxBatchMembers = 1000

    /// What may pass while `initialize` is being answered; the rest waits for the answer.
    private static func isHandshake(_ method: String?) -> Bool {
        method == MCPMethod.initialize || method == MCPMethod.ping || method == MCPMethod.initialized
    }

    func dispatch(_ message: [UInt8], envelope: JSONRPCEnvelope, from session: ClientSession) {
        switch envelope.kind {
        case .request: handleRequest(message, envelope: envelope, from: session)
        case .notification: handleNotification(message, envelope: envelope, from: session)
        case .successResponse, .errorResponse: handleClientResponse(message, envelope: envelope, from: session)
        }
    }

    private func rejectUnreadable(_ message: [UInt8], error: JSONRPCScanError, from session: ClientSession) {
        switch error {
        case .parseError(let detail):
            counters.parseErrors += 1
            log.warning("client \(session.label) sent malformed JSON (\(detail)): \(UpstreamConnection.preview(message))")
            session.send(
                JSONRPCMessage.error(idText: nil, code: JSONRPCErrorCode.parseError, message: "Parse error: \(detail)", data: nil))
        case .invalidRequest(let reason, let id):
            counters.invalidRequests += 1
            log.warning("client \(session.label) sent an invalid request (\(reason))")
            session.send(
                JSONRPCMessage.error(
                    idText: id?.jsonBytes, code: JSONRPCErrorCode.invalidRequest, message: "Invalid Request: \(reason)",
                    data: nil))
        }
    }

    // MARK: Requests

    private func handleRequest(_ message: [UInt8], envelope: JSONRPCEnvelope, from session: ClientSession) {
        let idText = Array(message[envelope.idRange!])
        let method = envelope.method ?? ""
        func fail(_ failure: ProxyFailure) {
            session.answer(idText, failure.response(idText: idText))
        }
        if method == MCPMethod.ping {
            counters.answeredLocally += 1
            session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object([:])))
            return
        }
        if method == MCPMethod.initialize {
            handleInitialize(message, idText: idText, from: session)
            return
        }
        guard session.phase != .awaitingInitialize else { return fail(.notInitialized(method: method)) }
        accept(message, envelope: envelope, idText: idText, caller: .legacy, from: session)
    }

    /// A request under the id of one still open: refused, and the open one keeps its id.
    private func refuseDuplicate(_ idText: [UInt8], from session: ClientSession) {
        counters.invalidRequests += 1
        session.send(
            JSONRPCMessage.error(
                idText: idText, code: JSONRPCErrorCode.invalidRequest,
                message: "Invalid Request: id \(String(decoding: idText, as: UTF8.self)) is already in use by a request in flight",
                data: nil))
    }

    /// Routes a request the client may make.
    func accept(_ message: [UInt8], envelope: JSONRPCEnvelope, idText: [UInt8], caller: ClientSession.Caller, from session: ClientSession) {
        let method = envelope.method ?? ""
        session.inFlight[idText] = .accepted(caller)
        switch exposure {
        case .transparent:
            routeTransparently(message, envelope: envelope, method: method, idText: idText, from: session)
        case .aggregated:
            routeAggregated(message, envelope: envelope, method: method, idText: idText, from: session)
        }
    }

    func routeTransparently(
        _ message: [UInt8], envelope: JSONRPCEnvelope, method: String, idText: [UInt8], from session: ClientSession
    ) {
        let upstream = upstreams[0]
        let filters = upstream.config
        if let cached = cachedList(method: method, message: message, at: upstream, for: session, idText: idText) {
            counters.answeredLocally += 1
            return session.answer(idText, JSONRPCMessage.success(idText: idText, result: cached), isError: false)
        }
        if isCacheableList(method, at: upstream) {
            return fetchListPage(message, envelope: envelope, method: method, idText: idText, at: upstream, for: session)
        }
        if upstream.isModern, method == MCPMethod.resourcesSubscribe || method == MCPMethod.resourcesUnsubscribe,
            let uri = (try? JSONParser.parse(message))?["params"]?["uri"]?.stringValue
        {
            return subscribeAtModernServer(method, uri: uri, at: upstream, idText: idText, from: session)
        }
        switch method {
        case MCPMethod.toolsList where !filters.tools.isPassThrough,
            MCPMethod.promptsList where !filters.prompts.isPassThrough,
            MCPMethod.resourcesList where !filters.resources.isPassThrough:
            let kind = ListKind(method: method)!
            forward(message, envelope: envelope, idText: idText, to: upstream, from: session) { result in
                kind.filtered(result, by: kind.filter(of: filters))
            }
        case MCPMethod.toolsCall where !filters.tools.isPassThrough,
            MCPMethod.promptsGet where !filters.prompts.isPassThrough:
            let name = (try? JSONParser.parse(message))?["params"]?["name"]?.stringValue ?? ""
            let isTool = method == MCPMethod.toolsCall
            guard (isTool ? filters.tools : filters.prompts).allows(name) else {
                session.answer(idText, (isTool ? ProxyFailure.unknownTool(name) : .unknownPrompt(name)).response(idText: idText))
                return
            }
            forward(message, envelope: envelope, idText: idText, to: upstream, from: session)
        default:
            forward(message, envelope: envelope, idText: idText, to: upstream, from: session)
        }
    }

    func routeAggregated(
        _ message: [UInt8], envelope: JSONRPCEnvelope, method: String, idText: [UInt8], from session: ClientSession
    ) {
        func fail(_ failure: ProxyFailure) {
            session.answer(idText, failure.response(idText: idText))
        }
        if let kind = ListKind(method: method) {
            answerAggregatedList(kind, message: message, idText: idText, from: session)
            return
        }
        switch method {
        case MCPMethod.toolsCall, MCPMethod.promptsGet:
            guard var request = try? JSONParser.parse(message), let name = request["params"]?["name"]?.stringValue else {
                return fail(.invalidParams(method: method, reason: "params.name must be a string"))
            }
            let isTool = method == MCPMethod.toolsCall
            guard let route = catalog.route(isTool ? .tool : .prompt, exposedName: name),
                let upstream = upstream(named: route.server),
                (isTool ? upstream.config.tools : upstream.config.prompts).allows(route.originalName)
            else {
                return fail(isTool ? .unknownTool(name) : .unknownPrompt(name))
            }
            request.setParam("name", to: .string(route.originalName))
            forwardRewritten(request, idText: idText, method: method, to: upstream, from: session)
        case MCPMethod.resourcesRead, MCPMethod.resourcesSubscribe, MCPMethod.resourcesUnsubscribe:
            guard let uri = (try? JSONParser.parse(message))?["params"]?["uri"]?.stringValue else {
                return fail(.invalidParams(method: method, reason: "params.uri must be a string"))
            }
            withResourceOwner(of: uri) { [weak self] owner in
                guard let self else { return }
                guard let owner, let upstream = self.upstream(named: owner), upstream.config.resources.allows(uri) else {
                    return fail(.unknownResource(uri))
                }
                if upstream.isModern && method != MCPMethod.resourcesRead {
                    return self.subscribeAtModernServer(method, uri: uri, at: upstream, idText: idText, from: session)
                }
                self.forward(message, envelope: envelope, idText: idText, to: upstream, from: session)
            }
        case MCPMethod.completionComplete:
            routeCompletion(message, envelope: envelope, idText: idText, from: session)
        case MCPMethod.loggingSetLevel where session.inFlight[idText]?.caller.era != .modern:
            broadcastRequest(message, method: method, idText: idText, capability: "logging", from: session)
        case let method where TaskHandles.methods.contains(method):
            guard case .aggregated(let separator) = exposure, var request = try? JSONParser.parse(message),
                let exposed = request["params"]?["taskId"]?.stringValue
            else {
                return fail(.invalidParams(method: method, reason: "params.taskId must be a string"))
            }
            guard let route = TaskHandles(separator: separator).route(exposed), let upstream = upstream(named: route.server) else {
                return fail(.invalidParams(method: method, reason: "no task \(exposed) (task ids here are <server>\(separator)<id>)"))
            }
            request.setParam("taskId", to: .string(route.taskId))
            forwardRewritten(request, idText: idText, method: method, to: upstream, from: session)
        default:
            fail(.methodNotFound(method))
        }
    }

    private func routeCompletion(_ message: [UInt8], envelope: JSONRPCEnvelope, idText: [UInt8], from session: ClientSession) {
        let method = MCPMethod.completionComplete
        guard var request = try? JSONParser.parse(message), let reference = request["params"]?["ref"] else {
            session.answer(idText, ProxyFailure.invalidParams(method: method, reason: "params.ref is required").response(idText: idText))
            return
        }
        if reference["type"]?.stringValue == "ref/prompt", let name = reference["name"]?.stringValue {
            guard let route = catalog.route(.prompt, exposedName: name), let upstream = upstream(named: route.server) else {
                session.answer(idText, ProxyFailure.unknownPrompt(name).response(idText: idText))
                return
            }
            var params = request["params"]?.objectValue ?? [:]
            var ref = reference.objectValue ?? [:]
            ref["name"] = .string(route.originalName)
            params["ref"] = .object(ref)
            request.setParam(nil, to: .object(params))
            forwardRewritten(request, idText: idText, method: method, to: upstream, from: session)
        } else if let uri = reference["uri"]?.stringValue {
            withResourceOwner(of: uri) { [weak self] owner in
                guard let self else { return }
                guard let owner, let upstream = self.upstream(named: owner) else {
                    session.answer(idText, ProxyFailure.unknownResource(uri).response(idText: idText))
                    return
                }
                self.forward(message, envelope: envelope, idText: idText, to: upstream, from: session)
            }
        } else {
            session.answer(idText, ProxyFailure.invalidParams(method: method, reason: "unsupported params.ref").response(idText: idText))
        }
    }

    /// Sends a request to every ready upstream with `capability` and answers `{}` when all have replied.
    private func broadcastRequest(
        _ message: [UInt8], method: String, idText: [UInt8], capability: String, from session: ClientSession
    ) {
        let params = (try? JSONParser.parse(message))?["params"]
        let targets = upstreams.filter { $0.isReady && !$0.isModern && $0.capabilities?[capability] != nil }
        var remaining = targets.count
        let answer = { session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object([:]))) }
        guard remaining > 0 else { return answer() }
        for upstream in targets {
            let sent = upstream.send(
                method: method, build: { JSONRPCMessage.request(idText: $0, method: method, params: params) },
                onReply: { [log] reply in
                    if case .failed(let failure) = reply { log.warning("\(method) on '\(upstream.name)': \(failure)") }
                    remaining -= 1
                    if remaining == 0 { answer() }
                })
            if case .failure = sent {
                remaining -= 1
                if remaining == 0 { answer() }
            }
        }
    }

    // MARK: Forwarding

    /// Sends a client's request to `upstream` with the id swapped for the upstream's, and its
    /// answer back with the client's id restored byte for byte. `transform` rewrites a
    /// successful result when the proxy must filter it.
    func forward(
        _ message: [UInt8], envelope: JSONRPCEnvelope, idText: [UInt8], to upstream: UpstreamConnection,
        from session: ClientSession, transform: ((JSONValue) -> JSONValue)? = nil
    ) {
        let postProcess: PostProcess? = transform.map { transform in { result, done in done(.success(transform(result))) } }
        guard let pluginChain, upstream.hasPluginChains else {
            return forwardDirectly(message, envelope: envelope, idText: idText, to: upstream, from: session, postProcess: postProcess)
        }
        forwardThroughPlugins(
            message, envelope: envelope, idText: idText, to: upstream, from: session, chain: pluginChain, postProcess: postProcess)
    }

    /// Sends a client's request to `upstream` with the id swapped for the upstream's, and its
    /// answer back with the client's id restored byte for byte; nothing else is parsed.
    /// `postProcess` rewrites a successful result when the proxy or a plugin must.
    func forwardDirectly(
        _ message: [UInt8], envelope: JSONRPCEnvelope, idText: [UInt8], to upstream: UpstreamConnection,
        from session: ClientSession, postProcess: PostProcess? = nil
    ) {
        let original = message
        var message = message
        var envelope = envelope
        // Clients pick their own progress tokens, so two sessions may use the same one: each
        // request gets a token of the proxy's own toward the upstream, mapped back on the way out.
        var progressToken: [UInt8]?
        var clientToken: [UInt8]?
        if let original = Self.progressToken(in: message, envelope: envelope), var parsed = try? JSONParser.parse(message) {
            let proxyToken = progress.issueToken()
            var params = parsed["params"]?.objectValue ?? [:]
            var meta = params["_meta"]?.objectValue ?? [:]
            meta["progressToken"] = proxyToken
            params["_meta"] = .object(meta)
            parsed.setParam(nil, to: .object(params))
            let rewritten = parsed.serialized()
            if let rescanned = try? JSONRPCEnvelope.scan(rewritten) {
                message = rewritten
                envelope = rescanned
                progressToken = proxyToken.serialized()
                clientToken = original
            }
        }
        let idRange = envelope.idRange!
        let method = envelope.method ?? ""
        let caller = session.inFlight[idText]?.caller ?? .legacy
        var upstreamID: Int64 = 0
        let sent = upstream.send(
            method: method, meta: session.standInMeta,
            build: { replacingID(in: message, idRange: idRange, with: $0) },
            onReply: { [weak self, weak session] reply in
                guard let self else { return }
                var session = session
                var idText = idText
                switch self.heldCalls.upstreamReplied(HeldCalls.Key(server: upstream.name, upstreamID: upstreamID), reply) {
                case .notHeld: break
                case .stashed: return
                case .deliver(let resumedSession, let resumedID):
                    session = resumedSession
                    idText = resumedID
                }
                guard let session else { return }
                self.finishForward(
                    reply, idText: idText, method: method, request: original, progressToken: progressToken, upstream: upstream, session: session,
                    postProcess: postProcess)
            })
        switch sent {
        case .success(let id):
            upstreamID = id
            var call = session.inFlight[idText] ?? .accepted(caller)
            call.stage = .upstream(upstream, id: upstreamID, progressToken: progressToken)
            session.inFlight[idText] = call
            if let progressToken, let clientToken {
                progress.open(
                    server: upstream.name, token: progressToken,
                    route: ProgressRouter.Route(session: session, upstreamID: upstreamID, clientToken: clientToken))
            }
        case .failure(let failure):
            session.answer(idText, failure.response(idText: idText))
        }
    }

    func finishForward(
        _ reply: UpstreamReply, idText: [UInt8], method: String, request: [UInt8], progressToken: [UInt8]?, upstream: UpstreamConnection,
        session: ClientSession, postProcess: PostProcess?
    ) {
        if let progressToken { progress.close(server: upstream.name, token: progressToken) }
        let caller = session.inFlight[idText]?.caller ?? .legacy
        switch reply {
        case .response(let bytes, let envelope):
            if upstream.isModern, envelope.kind == .successResponse, InputRequired.mayBe(bytes, envelope: envelope),
                let result = (try? JSONParser.parse(bytes))?["result"], InputRequired.isInputRequired(result)
            {
                if caller.era == .legacy {
                    return fulfilInputs(result, request: request, idText: idText, upstream: upstream, session: session, postProcess: postProcess)
                }
                // A modern client answers a modern server's input requests itself; nothing to rewrite or curate yet.
                return session.answer(idText, replacingID(in: bytes, idRange: envelope.idRange!, with: idText), isError: false)
            }
            if let postProcess, envelope.kind == .successResponse, let parsed = try? JSONParser.parse(bytes),
                let result = parsed["result"]
            {
                session.inFlight[idText]?.stage = .local
                postProcess(result) { [weak self, weak session] processed in
                    guard let self, let session, session.inFlight[idText] != nil else { return }
                    switch processed {
                    case .success(let result):
                        var shaped = result
                        if caller.era == .modern {
                            shaped = ResultShape.modern(result, method: method)
                            // A list a plugin may have rewritten is no longer the server's to share.
                            if upstream.hasPluginChains && ResultShape.cacheableMethods.contains(method), case .object(var object) = shaped {
                                object["cacheScope"] = "private"
                                shaped = .object(object)
                            }
                        }
                        session.answer(idText, JSONRPCMessage.success(idText: idText, result: shaped))
                    case .failure(let failure):
                        session.answer(idText, failure.response(idText: idText, era: caller.era))
                    }
                }
            } else if case .aggregated(let separator) = exposure, envelope.kind == .successResponse, let resultRange = envelope.resultRange,
                TaskHandles.mayCarryTaskID(bytes[resultRange]), let result = (try? JSONParser.parse(bytes))?["result"]
            {
                var shaped = TaskHandles(separator: separator).exposing(result: result, of: upstream.name, method: method)
                if caller.era == .modern && !upstream.isModern { shaped = ResultShape.modern(shaped, method: method) }
                session.answer(idText, JSONRPCMessage.success(idText: idText, result: shaped))
            } else {
                let answer =
                    caller.era == .modern && !upstream.isModern
                    ? ResultShape.modernResponse(bytes, envelope: envelope, method: method, idText: idText)
                    : replacingID(in: bytes, idRange: envelope.idRange!, with: idText)
                session.answer(idText, answer, isError: envelope.kind == .errorResponse)
            }
        case .failed(let failure):
            session.answer(idText, failure.response(idText: idText, era: caller.era))
        }
    }

    static func method(of request: [UInt8]) -> String {
        (try? JSONRPCEnvelope.scan(request))?.method ?? ""
    }

    /// Forwards a request the proxy had to rewrite (a prefixed name made original).
    private func forwardRewritten(
        _ request: JSONValue, idText: [UInt8], method: String, to upstream: UpstreamConnection, from session: ClientSession
    ) {
        let bytes = request.serialized()
        guard let envelope = try? JSONRPCEnvelope.scan(bytes) else {
            preconditionFailure("a request the proxy serialized must scan")
        }
        forward(bytes, envelope: envelope, idText: idText, to: upstream, from: session)
    }

    /// The client's serialized `params._meta.progressToken`, found without parsing unless the key is present.
    public static func progressToken(in message: [UInt8], envelope: JSONRPCEnvelope) -> [UInt8]? {
        guard let paramsRange = envelope.paramsRange, message[paramsRange].contains(subsequence: progressTokenKey),
            let token = (try? JSONParser.parse(message))?["params"]?["_meta"]?["progressToken"]
        else { return nil }
        return token.serialized()
    }

    private static let progressTokenKey = Array("\"progressToken\"".utf8)

    // MARK: Notifications and responses from the client

    private func handleNotification(_ message: [UInt8], envelope: JSONRPCEnvelope, from session: ClientSession) {
        switch envelope.method {
        case MCPMethod.initialized:
            break  // the proxy initialized each upstream itself; the session is ready once answered
        case MCPMethod.cancelled:
            guard let params = (try? JSONParser.parse(message))?["params"], let requestID = params["requestId"] else { return }
            let idText = requestID.serialized()
            if endListen(idText, of: session) { return }
            guard let request = session.inFlight.removeValue(forKey: idText) else {
                log.debug("client cancelled \(requestID.serializedString), which is not in flight")
                return
            }
            // The spec has a cancelled request go unanswered: it is settled here, not left open.
            session.cancelled(idText)
            if let upstream = request.upstream, let upstreamID = request.upstreamID {
                heldCalls.release(HeldCalls.Key(server: upstream.name, upstreamID: upstreamID))
                upstream.cancel(upstreamID, reason: params["reason"]?.stringValue)
                if let token = request.progressToken { progress.close(server: upstream.name, token: token) }
            }
        default:
            // roots/list_changed, progress for server requests and anything newer go to every
            // legacy upstream; modern revisions removed the client notifications they carry.
            for upstream in upstreams where !upstream.isModern { upstream.sendNotification(message) }
        }
    }

    private func handleClientResponse(_ message: [UInt8], envelope: JSONRPCEnvelope, from session: ClientSession) {
        guard case .number(let id)? = envelope.id, let request = session.serverRequests.removeValue(forKey: id) else {
            log.warning("client \(session.label) answered a request nobody asked: \(UpstreamConnection.preview(message))")
            return
        }
        switch request.asker {
        case .upstream(let upstream, let upstreamIDText):
            upstream.sendResponse(replacingID(in: message, idRange: envelope.idRange!, with: upstreamIDText))
        case .bridge(let take):
            let parsed = try? JSONParser.parse(message)
            take(parsed?["result"].map { .result($0) } ?? .error(parsed?["error"] ?? .null))
        }
    }
}

extension JSONValue {
    /// Sets `params[key]` (or the whole `params` when `key` is nil) of a JSON-RPC message.
    mutating func setParam(_ key: String?, to value: JSONValue) {
        guard case .object(var message) = self else { return }
        if let key {
            var params = message["params"]?.objectValue ?? [:]
            params[key] = value
            message["params"] = .object(params)
        } else {
            message["params"] = value
        }
        self = .object(message)
    }
}

extension ArraySlice where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= count else { return false }
        return withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                pb_memmem(haystack.baseAddress, haystack.count, needle.baseAddress, needle.count) != nil
            }
        }
    }

    func sameBytes(as other: [UInt8]) -> Bool {
        guard count == other.count else { return false }
        guard !isEmpty else { return true }
        return withUnsafeBytes { mine in other.withUnsafeBytes { memcmp(mine.baseAddress!, $0.baseAddress!, count) == 0 } }
    }
}

extension ProxyCore {
    static func listCacheKey(method: String, request: [UInt8], upstream: UpstreamConnection) -> ListCache.Key {
        let cursor = (try? JSONParser.parse(request))?["params"]?["cursor"]
        return ListCache.Key(server: upstream.name, method: method, cursor: cursor.flatMap { $0.isNull ? nil : $0.serialized() } ?? [])
    }

    /// A list request plugboard may answer from its cache: a modern server's, that nothing rewrites.
    func isCacheableList(_ method: String, at upstream: UpstreamConnection) -> Bool {
        guard upstream.isModern, !upstream.hasPluginChains, let kind = ListKind(method: method) else { return false }
        return kind.filter(of: upstream.config).isPassThrough
    }

    /// One upstream fetch per list page at a time, made by plugboard rather than by any one
    /// client (whose cancelling must not strand the others): every request for the page waits
    /// for it. A public answer is cached and shared; a private one is not shared, so each
    /// waiter then asks for itself.
    func fetchListPage(
        _ message: [UInt8], envelope: JSONRPCEnvelope, method: String, idText: [UInt8], at upstream: UpstreamConnection, for session: ClientSession
    ) {
        let key = Self.listCacheKey(method: method, request: message, upstream: upstream)
        let waiter = ListWaiter(session: session, idText: idText, message: message, envelope: envelope)
        if listFetches[key] != nil {
            listFetches[key]!.append(waiter)
            return
        }
        listFetches[key] = [waiter]
        listCache.fetches += 1
        let idRange = envelope.idRange!
        let sent = upstream.send(
            method: method, meta: session.standInMeta, build: { replacingID(in: message, idRange: idRange, with: $0) },
            onReply: { [weak self] reply in
                guard let self else { return }
                let waiters = self.listFetches.removeValue(forKey: key) ?? []
                if case .response(let bytes, let envelope) = reply, envelope.kind == .successResponse,
                    let result = (try? JSONParser.parse(bytes))?["result"]
                {
                    self.listCache.store(result, for: key, now: loop.now())
                }
                let cached = self.listCache.lookup(key, now: loop.now())
                for (index, waiter) in waiters.enumerated() where waiter.session.phase != .closed && waiter.session.inFlight[waiter.idText] != nil {
                    switch (cached, reply) {
                    case (nil, .response(let bytes, let envelope)) where index == 0:
                        // The request the fetch was made from takes its own answer.
                        waiter.session.answer(
                            waiter.idText, replacingID(in: bytes, idRange: envelope.idRange!, with: waiter.idText), isError: envelope.kind == .errorResponse)
                    case (let cached?, _):
                        waiter.session.answer(waiter.idText, JSONRPCMessage.success(idText: waiter.idText, result: cached), isError: false)
                    case (nil, .response(let bytes, let envelope)) where envelope.kind == .errorResponse:
                        waiter.session.answer(waiter.idText, replacingID(in: bytes, idRange: envelope.idRange!, with: waiter.idText), isError: true)
                    case (nil, .failed(let failure)):
                        waiter.session.answer(waiter.idText, failure.response(idText: waiter.idText, era: waiter.session.inFlight[waiter.idText]?.caller.era ?? .legacy))
                    case (nil, .response):
                        self.forwardDirectly(waiter.message, envelope: waiter.envelope, idText: waiter.idText, to: upstream, from: waiter.session)
                    }
                }
            })
        if case .failure(let failure) = sent {
            for waiter in listFetches.removeValue(forKey: key) ?? [] {
                waiter.session.answer(waiter.idText, failure.response(idText: waiter.idText))
            }
        }
    }

    /// A modern server's list page plugboard holds fresh, when nothing would rewrite it.
    func cachedList(method: String, message: [UInt8], at upstream: UpstreamConnection, for session: ClientSession, idText: [UInt8]) -> JSONValue? {
        guard isCacheableList(method, at: upstream) else { return nil }
        guard let cached = listCache.lookup(Self.listCacheKey(method: method, request: message, upstream: upstream), now: loop.now()) else {
            return nil
        }
        session.inFlight[idText] = nil
        return cached
    }
}
