import JSON

/// Where requests wait for the upstreams' handshakes: shut until every upstream has answered
/// its probe or `initialize` (or failed to), then open for good. A value: it says who may go,
/// and the core runs them.
///
/// Legacy upstreams are initialized once, with what the first client says of itself (its
/// `initialize`, or a modern client's `_meta` standing in for it); servers started later, by
/// a restart or a reload, are initialized the same way.
struct InitializeGate {
    /// What the upstreams were told; nil until the first client came.
    private(set) var upstreamParams: JSONValue?
    private(set) var settled: Set<String> = []
    private var waiters: [() -> Void] = []
    /// Every upstream of `servers` has settled: kept, not computed, as every modern request asks.
    private(set) var isOpen = false
    private var servers: [String]

    init(servers: [String]) {
        self.servers = servers
        isOpen = servers.isEmpty
    }

    var hasStarted: Bool { upstreamParams != nil }
    var waitingCount: Int { waiters.count }

    /// Notes what the upstreams are told; false when a client came first and it was done already.
    mutating func start(with params: JSONValue) -> Bool {
        guard upstreamParams == nil else { return false }
        upstreamParams = params
        return true
    }

    /// Lets `waiter` through now (true) or holds it until the gate opens (false).
    mutating func admit(_ waiter: @escaping () -> Void) -> Bool {
        if isOpen { return true }
        waiters.append(waiter)
        return false
    }

    /// `server` has answered or failed; returns those to let through if that opened the gate.
    mutating func settle(_ server: String) -> [() -> Void] {
        settled.insert(server)
        return recompute()
    }

    /// The servers behind the gate changed (a reload); returns those to let through if it opened.
    mutating func serve(_ servers: [String]) -> [() -> Void] {
        self.servers = servers
        return recompute()
    }

    /// The handshake's grace ran out: whoever waits goes on, to be answered with what is up.
    /// The gate stays shut for the servers still settling.
    mutating func releaseWaiting() -> [() -> Void] {
        defer { waiters = [] }
        return waiters
    }

    private mutating func recompute() -> [() -> Void] {
        isOpen = servers.allSatisfy(settled.contains)
        return isOpen ? releaseWaiting() : []
    }
}
