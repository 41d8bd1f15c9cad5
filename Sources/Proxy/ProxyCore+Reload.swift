import Config
import IO
import JSON
import JSONRPC
import Plugins

/// What a reload changed among the upstream servers.
public struct UpstreamChanges: Sendable, Equatable, CustomStringConvertible {
    public var kept: [String] = []
    public var replaced: [String] = []
    public var added: [String] = []
    public var removed: [String] = []

    public var isEmpty: Bool { replaced.isEmpty && added.isEmpty && removed.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !replaced.isEmpty { parts.append("restarted \(replaced.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        return parts.isEmpty ? "no upstream changes" : parts.joined(separator: "; ")
    }
}

/// Why a new generation was not adopted; the old one keeps serving.
public struct ReloadRejection: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

extension ProxyCore {
    /// Switches to `config` and `plugins` without losing a request: upstream servers whose
    /// settings did not change are kept as they are; changed and added ones are started (and
    /// initialized, once a client has) before they take requests; replaced and removed ones
    /// then finish what they hold and stop. New requests go to the new generation from the
    /// moment `completion` reports success; requests in flight finish where they started.
    public func reconfigure(
        to newConfig: PlugboardConfig, plugins newPlugins: PluginRegistry,
        completion: @escaping (Result<UpstreamChanges, ReloadRejection>) -> Void
    ) {
        loop.assertInLoop()
        guard phase == .serving else { return completion(.failure(ReloadRejection(reason: "plugboard is shutting down"))) }
        var changes = UpstreamChanges()
        var next: [UpstreamConnection] = []
        var fresh: [UpstreamConnection] = []
        for server in newConfig.servers where server.enabled {
            if let current = upstream(named: server.name), current.config == server, current.limits == newConfig.limits {
                next.append(current)
                changes.kept.append(server.name)
            } else {
                let connection = UpstreamConnection(
                    config: server, limits: newConfig.limits, loop: loop, log: log, authorizations: authorizations, makeLink: makeLink)
                next.append(connection)
                fresh.append(connection)
                if upstream(named: server.name) == nil { changes.added.append(server.name) } else { changes.replaced.append(server.name) }
            }
        }
        let nextNames = Set(next.map(\.name))
        changes.removed = upstreams.map(\.name).filter { !nextNames.contains($0) }
        for connection in fresh { wire(connection) }

        var decided = false
        var deadlineTimer: EventLoop.TimerID?
        /// Adopts once every fresh connection is ready, rejects once one has failed or the
        /// handshake's timeout has passed; re-judged on each of their phase changes.
        func judge(timedOut: Bool) {
            guard !decided else { return }
            let failed = fresh.filter { if case .waitingToRestart = $0.phase { true } else { $0.phase.name == "stopped" } }
            let settled = fresh.allSatisfy { connection in
                switch connection.phase {
                case .ready: true
                case .spawned: gate.upstreamParams == nil  // no client yet: started is as far as it goes
                default: false
                }
            }
            guard !failed.isEmpty || settled || timedOut else { return }
            decided = true
            if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
            for connection in fresh { connection.onPhaseChange = nil }
            if !failed.isEmpty {
                reject("upstream server(s) \(failed.map { "'\($0.name)'" }.joined(separator: ", ")) could not be started; see the log above")
            } else if settled {
                adopt()
            } else {
                reject("upstream server(s) \(fresh.filter { !$0.isReady }.map { "'\($0.name)'" }.joined(separator: ", ")) did not initialize within \(newConfig.limits.initializeTimeout)")
            }
        }

        func reject(_ reason: String) {
            for connection in fresh { connection.stop {} ; connection.terminate() }
            completion(.failure(ReloadRejection(reason: reason)))
        }

        func adopt() {
            let retiring = upstreams.filter { current in !next.contains { $0 === current } }
            let oldExposure = exposure
            config = newConfig
            upstreams = next
            exposure = Self.exposure(for: newConfig)
            catalog = Catalog(separator: newConfig.exposure.separator, serverNames: nextNames)
            for connection in fresh where connection.isReady { run(gate.settle(connection.name)) }
            let pluginsChanged = plugins !== newPlugins
            if let oldPlugins = plugins, let oldChain = pluginChain, pluginsChanged {
                retire(oldPlugins, chain: oldChain, successor: newPlugins)
            }
            plugins = newPlugins.isEmpty ? nil : newPlugins
            pluginChain = plugins.map(makeChain)
            generation += 1
            for connection in retiring {
                connection.stop {}
                let drain = newConfig.limits.shutdownTimeout.nanoseconds
                loop.schedule(afterNanoseconds: drain) { connection.terminate() }
            }
            if !changes.isEmpty || pluginsChanged || oldExposure != exposure { announceListChanges() }
            completion(.success(changes))
        }

        for connection in fresh { connection.onPhaseChange = { _ in judge(timedOut: false) } }
        deadlineTimer = loop.schedule(afterNanoseconds: newConfig.limits.initializeTimeout.nanoseconds) { judge(timedOut: true) }
        judge(timedOut: false)
    }

    /// The previous generation's pools (those the new one did not take over) drain once no call
    /// that started under it is still running.
    private func retire(_ registry: PluginRegistry, chain: PluginChain, successor: PluginRegistry) {
        retiringRegistries.append(registry)
        let finish = { [weak self, weak registry] in
            guard let registry else { return }
            chain.onIdle = nil
            registry.retire(keepingPoolsOf: successor)
            self?.retiringRegistries.removeAll { $0 === registry }
        }
        if chain.activeCalls == 0 { finish() } else { chain.onIdle = finish }
    }

    /// Tells ready clients that what they listed may have changed.
    private func announceListChanges() {
        let methods = [MCPMethod.toolsListChanged, MCPMethod.promptsListChanged, MCPMethod.resourcesListChanged]
        let promised: Bool
        switch exposure {
        case .aggregated: promised = true
        case .transparent: promised = upstreams.first?.capabilities?["tools"]?["listChanged"]?.boolValue == true
        }
        guard promised else { return }
        for session in sessions where session.phase == .ready {
            for method in methods { session.send(JSONRPCMessage.notification(method: method, params: nil)) }
        }
    }
}
