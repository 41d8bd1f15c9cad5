import IO
import JSON
import JSONRPC

extension ProxyCore {
    /// Upstreams are asked for every page; clients get one complete, prefixed, filtered list.
    static let maxPagesPerUpstream = 100

    func answerAggregatedList(_ kind: ListKind, message: [UInt8], idText: [UInt8], from session: ClientSession) {
        if let cursor = (try? JSONParser.parse(message))?["params"]?["cursor"], !cursor.isNull {
            session.answer(idText,
                ProxyFailure.invalidParams(
                    method: kind.method, reason: "unknown cursor: plugboard returns complete lists without pagination"
                ).response(idText: idText))
            return
        }
        let modern = session.inFlight[idText]?.caller.era == .modern
        collectAggregatedList(kind) { items, hint in
            var result: JSONObject = [kind.resultKey: .array(items)]
            if modern {
                result["resultType"] = "complete"
                result["ttlMs"] = .number(JSONNumber(hint.ttlMs))
                result["cacheScope"] = .string(hint.cacheScope)
            }
            session.answer(idText, JSONRPCMessage.success(idText: idText, result: .object(result)))
        }
    }

    /// Every ready upstream's items of `kind`, renamed for the aggregated endpoint.
    /// The hints of the merged list: the shortest TTL of its parts, public only if all are
    /// and no plugin rewrote them.
    func collectAggregatedList(_ kind: ListKind, completion: @escaping ([JSONValue], CacheHint) -> Void) {
        let targets = upstreams.filter { $0.isReady && $0.capabilities?[kind.capability] != nil }
        var collected: [String: [JSONValue]] = [:]
        var hint = CacheHint(ttlMs: Int64.max, isPublic: true)
        var remaining = targets.count
        let finish = { [weak self] in
            guard let self else { return }
            let merged = targets.isEmpty ? CacheHint(ttlMs: 0, isPublic: true) : hint
            completion(targets.flatMap { self.expose(kind, items: collected[$0.name] ?? [], from: $0) }, merged)
        }
        guard remaining > 0 else { return finish() }
        for upstream in targets {
            fetchAllPages(kind, from: upstream) { [weak self, log] items, upstreamHint in
                let settle = { (items: Result<[JSONValue], ProxyFailure>) in
                    switch items {
                    case .success(let items):
                        collected[upstream.name] = items
                        let rewritten = kind == .tools && upstream.hasPluginChains
                        hint = hint.combined(with: rewritten ? CacheHint(ttlMs: upstreamHint.ttlMs, isPublic: false) : upstreamHint)
                    case .failure(let failure):
                        log.warning("leaving '\(upstream.name)' out of \(kind.method): \(failure)")
                        hint = hint.combined(with: .none)
                    }
                    remaining -= 1
                    if remaining == 0 { finish() }
                }
                guard kind == .tools, case .success(let tools) = items, let self else { return settle(items) }
                self.applyListChain(tools, from: upstream, completion: settle)
            }
        }
    }

    private func expose(_ kind: ListKind, items: [JSONValue], from upstream: UpstreamConnection) -> [JSONValue] {
        let filter = kind.filter(of: upstream.config)
        let visible = items.filter { filter.allows($0[kind.identityKey]?.stringValue ?? "") }
        let identities = visible.map { $0[kind.identityKey]?.stringValue ?? "" }
        switch kind {
        case .tools, .prompts:
            let (exposed, collisions) = catalog.register(kind == .tools ? .tool : .prompt, server: upstream.name, originalNames: identities)
            for name in collisions {
                log.warning("\(kind.resultKey) name collision on \(name); '\(upstream.name)' got a hashed name")
            }
            return zip(visible, exposed).map { item, name in
                guard case .object(var object) = item else { return item }
                object["name"] = .string(name)
                return .object(object)
            }
        case .resources:
            for uri in catalog.registerResources(server: upstream.name, uris: identities) {
                log.warning("resource \(uri) is offered by several servers; '\(upstream.name)' lost it")
            }
            return visible
        case .resourceTemplates:
            catalog.registerResourceTemplates(server: upstream.name, templates: identities)
            return visible
        }
    }

    /// Follows `nextCursor` until the upstream has nothing more (or too many pages).
    func fetchAllPages(
        _ kind: ListKind, from upstream: UpstreamConnection, cursor: JSONValue? = nil, gathered: [JSONValue] = [],
        page: Int = 1, hint: CacheHint = CacheHint(ttlMs: Int64.max, isPublic: true),
        completion: @escaping (Result<[JSONValue], ProxyFailure>, CacheHint) -> Void
    ) {
        let params: JSONValue? = cursor.map { ["cursor": $0] }
        let cacheKey = ListCache.Key(server: upstream.name, method: kind.method, cursor: cursor?.serialized() ?? [])
        let takePage = { [weak self] (result: JSONValue) in
            guard let self else { return }
            let pageHint = upstream.isModern ? CacheHint(result: result) : .none
            let items = gathered + (result[kind.resultKey]?.arrayValue ?? [])
            let hint = hint.combined(with: pageHint)
            if let next = result["nextCursor"], !next.isNull, page < Self.maxPagesPerUpstream {
                self.fetchAllPages(kind, from: upstream, cursor: next, gathered: items, page: page + 1, hint: hint, completion: completion)
            } else {
                if page >= Self.maxPagesPerUpstream {
                    self.log.warning("'\(upstream.name)' returned over \(Self.maxPagesPerUpstream) pages of \(kind.method); stopped there")
                }
                completion(.success(items), hint)
            }
        }
        if upstream.isModern, let cached = listCache.lookup(cacheKey, now: loop.now()) { return takePage(cached) }
        let sent = upstream.send(
            method: kind.method, build: { JSONRPCMessage.request(idText: $0, method: kind.method, params: params) },
            onReply: { [weak self] reply in
                guard let self else { return }
                switch reply {
                case .failed(let failure):
                    completion(.failure(failure), .none)
                case .response(let bytes, _):
                    let message = try? JSONParser.parse(bytes)
                    guard let result = message?["result"] else {
                        let error = message?["error"]?["message"]?.stringValue ?? "no result"
                        return completion(.failure(.upstreamUnavailable(server: upstream.name, method: kind.method, reason: error)), .none)
                    }
                    if upstream.isModern { self.listCache.store(result, for: cacheKey, now: loop.now()) }
                    takePage(result)
                }
            })
        if case .failure(let failure) = sent { completion(.failure(failure), .none) }
    }

    /// Finds which upstream serves `uri`, refreshing the resource listings once if it is unknown.
    func withResourceOwner(of uri: String, _ body: @escaping (String?) -> Void) {
        if let owner = catalog.owner(ofResource: uri) { return body(owner) }
        let candidates = upstreams.filter { $0.isReady && $0.capabilities?["resources"] != nil }
        if candidates.count == 1 { return body(candidates[0].name) }
        var remaining = 2
        let done = { [weak self] in
            remaining -= 1
            if remaining == 0 { body(self?.catalog.owner(ofResource: uri)) }
        }
        collectAggregatedList(.resources) { _, _ in done() }
        collectAggregatedList(.resourceTemplates) { _, _ in done() }
    }
}
