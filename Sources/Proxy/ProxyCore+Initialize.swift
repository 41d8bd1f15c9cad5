import IO
import JSON
import JSONRPC

extension ProxyCore {
    /// Answers `initialize` once every upstream is initialized with the client's version,
    /// capabilities and identity (or has failed to be).
    func handleInitialize(_ message: [UInt8], idText: [UInt8], from session: ClientSession) {
        guard session.phase == .awaitingInitialize else {
            counters.invalidRequests += 1
            session.answer(idText,
                JSONRPCMessage.error(
                    idText: idText, code: JSONRPCErrorCode.invalidRequest,
                    message: "Invalid Request: the session is already initialized", data: nil))
            return
        }
        let params = (try? JSONParser.parse(message))?["params"]?.objectValue ?? [:]
        session.phase = .initializing
        session.era = .legacy
        session.initializeParams = params
        session.negotiatedVersion = ProtocolVersion.negotiate(requested: params["protocolVersion"]?.stringValue)
        log.info(
            "client \(session.label) initializing",
            ["client": params["clientInfo"]?["name"]?.stringValue ?? "?", "protocol": session.negotiatedVersion])

        if !gate.hasStarted {
            var upstreamParams: JSONObject = [
                "protocolVersion": .string(session.negotiatedVersion),
                "capabilities": params["capabilities"] ?? .object([:]),
                "clientInfo": params["clientInfo"] ?? ["name": "plugboard", "version": .string(PlugboardVersion.current)],
            ]
            if let meta = params["_meta"] { upstreamParams["_meta"] = meta }
            startUpstreamInitialization(with: .object(upstreamParams))
        }
        let answer = { [weak self, weak session] in
            guard let self, let session, session.phase != .closed else { return }
            self.answerInitialize(idText: idText, session: session)
        }
        if gate.admit(answer) { answer() }
    }

    /// Initializes every legacy upstream with what the first client said of itself; the
    /// answers wait for them to settle, for at most the handshake's timeout.
    func startUpstreamInitialization(with params: JSONValue) {
        guard gate.start(with: params) else { return }
        for upstream in upstreams { upstream.initialize(with: params) }
        let grace = config.limits.initializeTimeout.nanoseconds + 500_000_000
        loop.schedule(afterNanoseconds: grace) { [weak self] in
            guard let self else { return }
            self.run(self.gate.releaseWaiting())
        }
    }

    func upstreamSettled(_ upstream: UpstreamConnection) {
        run(gate.settle(upstream.name))
    }

    private func answerInitialize(idText: [UInt8], session: ClientSession) {
        let ready = upstreams.filter(\.isReady)
        guard !ready.isEmpty else {
            session.phase = .awaitingInitialize
            let names = upstreams.map { upstream in
                "'\(upstream.name)' (\(upstream.lastFailure.map { "\(upstream.phase.name): \($0)" } ?? upstream.phase.name))"
            }.joined(separator: ", ")
            session.answer(idText,
                JSONRPCMessage.error(
                    idText: idText, code: JSONRPCErrorCode.internalError,
                    message: "No upstream server could be initialized: \(names); see plugboard's log", data: nil))
            replayDeferred(of: session)
            return
        }
        let result: JSONObject
        switch exposure {
        case .transparent:
            if let legacyResult = ready[0].initializeResult {
                result = legacyResult
                if let version = result["protocolVersion"]?.stringValue { session.negotiatedVersion = version }
            } else {
                result = initializeResult(standingForModern: ready[0], version: session.negotiatedVersion)
            }
        case .aggregated:
            result = aggregatedInitializeResult(ready: ready, version: session.negotiatedVersion)
        }
        if session.phase == .initializing { session.phase = .ready }
        let missing = upstreams.filter { !$0.isReady }.map(\.name)
        if !missing.isEmpty {
            log.warning("answering initialize without \(missing.joined(separator: ", ")); they join when they come up")
        }
        session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object(result)))
        replayDeferred(of: session)
    }

    /// What arrived while `initialize` was being answered; dispatched before it is forgotten,
    /// so that the session never looks idle in between.
    private func replayDeferred(of session: ClientSession) {
        for (message, envelope) in session.deferred { dispatch(message, envelope: envelope, from: session) }
        session.deferred = []
    }

    /// One endpoint's worth of capabilities: what any ready upstream offers, with `listChanged`
    /// promised because upstreams can come and go.
    private func aggregatedInitializeResult(ready: [UpstreamConnection], version: String) -> JSONObject {
        let aggregate = aggregatedCapabilities(ready: ready)
        return [
            "protocolVersion": .string(version),
            "capabilities": .object(aggregate.capabilities),
            "serverInfo": plugboardServerInfo(ready: ready),
            "instructions": .string(aggregate.instructions),
        ]
    }

    /// A legacy client's `initialize` answered for a modern upstream, from its `server/discover`.
    private func initializeResult(standingForModern upstream: UpstreamConnection, version: String) -> JSONObject {
        var result: JSONObject = [
            "protocolVersion": .string(version),
            "capabilities": .object(upstream.capabilities ?? [:]),
            "serverInfo": upstream.serverInfo ?? plugboardServerInfo(ready: [upstream]),
        ]
        if let instructions = upstream.instructions, !instructions.isEmpty { result["instructions"] = .string(instructions) }
        return result
    }

    func plugboardServerInfo(ready: [UpstreamConnection]) -> JSONValue {
        [
            "name": "plugboard",
            "title": .string("plugboard: \(ready.map(\.name).joined(separator: ", "))"),
            "version": .string(PlugboardVersion.current),
        ]
    }

    func aggregatedCapabilities(ready: [UpstreamConnection]) -> (capabilities: JSONObject, instructions: String) {
        var capabilities: JSONObject = [:]
        var experimental: JSONObject = [:]
        var extensions: JSONObject = [:]
        var instructions: [String] = []
        for upstream in ready {
            let offered = upstream.capabilities ?? [:]
            if offered["tools"] != nil { capabilities["tools"] = ["listChanged": true] }
            if offered["prompts"] != nil { capabilities["prompts"] = ["listChanged": true] }
            if let resources = offered["resources"] {
                let subscribe = resources["subscribe"]?.boolValue == true || capabilities["resources"]?["subscribe"]?.boolValue == true
                capabilities["resources"] = ["listChanged": true, "subscribe": .bool(subscribe)]
            }
            if offered["logging"] != nil { capabilities["logging"] = .object([:]) }
            if offered["completions"] != nil { capabilities["completions"] = .object([:]) }
            if let tasks = offered["tasks"], capabilities["tasks"] == nil { capabilities["tasks"] = tasks }
            for (key, value) in offered["experimental"]?.objectValue ?? [:] where experimental[key] == nil {
                experimental[key] = value
            }
            for (key, value) in offered["extensions"]?.objectValue ?? [:] where extensions[key] == nil {
                extensions[key] = value
            }
            if let text = upstream.instructions, !text.isEmpty {
                instructions.append("## \(upstream.name)\n\(text)")
            }
        }
        if !experimental.isEmpty { capabilities["experimental"] = .object(experimental) }
        if !extensions.isEmpty { capabilities["extensions"] = .object(extensions) }
        guard case .aggregated(let separator) = exposure else { preconditionFailure("aggregated capabilities in transparent mode") }
        let preface = "Tools and prompts of several servers, named <server>\(separator)<name>."
        return (capabilities, ([preface] + instructions).joined(separator: "\n\n"))
    }

    /// A server came up: after a restart (or a late first start) clients are told its lists may
    /// have changed, where the capabilities they were given promise it.
    func upstreamBecameReady(_ upstream: UpstreamConnection, afterRestart: Bool) {
        let wasSettled = gate.settled.contains(upstream.name)
        listCache.invalidate(server: upstream.name)
        upstreamSettled(upstream)
        guard afterRestart || wasSettled else { return }
        let offered = upstream.capabilities ?? [:]
        let announcements: [(String, String)] = [
            ("tools", MCPMethod.toolsListChanged), ("prompts", MCPMethod.promptsListChanged),
            ("resources", MCPMethod.resourcesListChanged),
        ]
        for (capability, method) in announcements where offered[capability] != nil {
            let promised: Bool
            switch exposure {
            case .aggregated: promised = true
            case .transparent: promised = offered[capability]?["listChanged"]?.boolValue == true
            }
            if promised { announce(method) }
        }
    }
}

/// plugboard's own version, reported in `serverInfo` and `--version`.
public enum PlugboardVersion {
    public static let current = "0.1.0"
}
