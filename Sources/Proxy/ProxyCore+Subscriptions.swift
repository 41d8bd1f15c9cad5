import JSON
import JSONRPC

/// Change notifications in both eras: legacy sessions hear them as sessions always did;
/// modern clients hear what their `subscriptions/listen` asked for, tagged with its id.
extension ProxyCore {
    func listen(params: JSONValue, idText: [UInt8], from session: ClientSession) {
        var filter = ListenRegistry.Filter(params: params)
        let offered = upstreams.filter(\.isReady).map { $0.capabilities ?? [:] }
        // Only what some server can announce is acknowledged.
        filter.toolsListChanged = filter.toolsListChanged && offered.contains { $0["tools"] != nil }
        filter.promptsListChanged = filter.promptsListChanged && offered.contains { $0["prompts"] != nil }
        filter.resourcesListChanged = filter.resourcesListChanged && offered.contains { $0["resources"] != nil }
        filter.resourceURIs = filter.resourceURIs.filter { uri in
            resourceOwner(of: uri).map { $0.isModern || $0.capabilities?["resources"]?["subscribe"]?.boolValue == true } ?? false
        }
        let id = (try? JSONParser.parse(idText)) ?? .null
        let newURIs = Set(filter.resourceURIs).subtracting(listens.followedURIs)
        listens.add(ListenRegistry.Listen(session: session, idText: idText, id: id, filter: filter))
        for uri in newURIs { subscribeUpstream(to: uri, subscribe: true) }
        let acknowledgment = JSONRPCMessage.notification(
            method: MCPMethod.subscriptionsAcknowledged,
            params: ["_meta": [RequestMeta.subscriptionIDKey: id], "notifications": .object(filter.acknowledged)])
        session.send(acknowledgment, relatedTo: idText)
    }

    /// The client cancelled its listen (stdio) or closed its stream (HTTP).
    func endListen(_ idText: [UInt8], of session: ClientSession) -> Bool {
        guard let listen = listens.remove(idText, of: session) else { return false }
        session.abandon(idText)
        for uri in Set(listen.filter.resourceURIs).subtracting(listens.followedURIs) { subscribeUpstream(to: uri, subscribe: false) }
        return true
    }

    /// Graceful closure, on shutdown: each listen is answered, which ends its stream.
    func closeListens() {
        for listen in listens.removeAll() {
            let result: JSONValue = ["resultType": "complete", "_meta": [RequestMeta.subscriptionIDKey: listen.id]]
            listen.session.answer(listen.idText, JSONRPCMessage.success(idText: listen.idText, result: result), isError: false)
        }
    }

    /// The upstream that serves `uri`, when it is known without asking.
    private func resourceOwner(of uri: String) -> UpstreamConnection? {
        switch exposure {
        case .transparent: upstreams.first
        case .aggregated: catalog.owner(ofResource: uri).flatMap { upstream(named: $0) }
        }
    }

    /// Follows a resource at its server: `resources/subscribe` at a legacy one, a
    /// `subscriptions/listen` of plugboard's at a modern one.
    func subscribeUpstream(to uri: String, subscribe: Bool) {
        guard let owner = resourceOwner(of: uri) else { return }
        if owner.isModern {
            return subscribe ? owner.follow(resource: uri) : owner.unfollow(resource: uri)
        }
        let method = subscribe ? MCPMethod.resourcesSubscribe : MCPMethod.resourcesUnsubscribe
        let params: JSONValue = ["uri": .string(uri)]
        _ = owner.send(
            method: method, build: { JSONRPCMessage.request(idText: $0, method: method, params: params) },
            onReply: { [log] reply in
                if case .failed(let failure) = reply { log.warning("\(method) \(uri) at '\(owner.name)': \(failure)") }
            })
    }

    /// A change notification (list changed, resource updated) from `upstream`, or of plugboard's own.
    func announce(_ method: String, params: JSONValue? = nil) {
        var plain = params?.objectValue ?? [:]
        var meta = plain["_meta"]?.objectValue ?? [:]
        meta[RequestMeta.subscriptionIDKey] = nil
        plain["_meta"] = meta.isEmpty ? nil : .object(meta)
        let legacyMessage = JSONRPCMessage.notification(method: method, params: plain.isEmpty ? nil : .object(plain))
        for session in sessions where session.phase == .ready { session.send(legacyMessage) }
        let uri = plain["uri"]?.stringValue
        for listen in listens.recipients(of: method, uri: uri) {
            var tagged = plain
            var taggedMeta = meta
            taggedMeta[RequestMeta.subscriptionIDKey] = listen.id
            tagged["_meta"] = .object(taggedMeta)
            listen.session.send(JSONRPCMessage.notification(method: method, params: .object(tagged)), relatedTo: listen.idText)
        }
    }

    static let changeNotifications: Set<String> = [
        MCPMethod.toolsListChanged, MCPMethod.promptsListChanged, MCPMethod.resourcesListChanged, MCPMethod.resourcesUpdated,
    ]
}


extension ProxyCore {
    /// A legacy client's `resources/subscribe` or `unsubscribe` for a resource of a modern
    /// server, which has neither: plugboard follows the resource there and answers itself.
    func subscribeAtModernServer(_ method: String, uri: String, at upstream: UpstreamConnection, idText: [UInt8], from session: ClientSession) {
        if method == MCPMethod.resourcesSubscribe { upstream.follow(resource: uri) } else { upstream.unfollow(resource: uri) }
        counters.answeredLocally += 1
        session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object([:])), isError: false)
    }
}
