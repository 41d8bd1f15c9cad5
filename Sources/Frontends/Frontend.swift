import IO
import Proxy

/// What carries clients into the core. As a `Service` a frontend drains in three steps: it
/// stops taking new clients at once, waits until the core has answered every request (or
/// failed those left at the shutdown deadline), then flushes what each client is owed and
/// closes. Its drain is over when the last byte is written or the last connection closed.
public protocol Frontend: Service {
    /// Flushes what is queued and closes every client connection.
    func finish()
}

/// The steps each frontend fills in for the drain all of them share.
protocol DrainSteps: AnyObject {
    var core: ProxyCore { get }
    var isDraining: Bool { get set }
    func finish()
    /// Stops taking new clients (a listener closes); existing ones go on.
    func stopTakingClients()
    /// Runs `completion` once everything `finish()` flushes is written or dropped.
    func whenFlushed(_ completion: @escaping () -> Void)
    /// Drops what is still queued for clients and closes now.
    func closeNow()
}

extension DrainSteps {
    func drainWhenSettled() {
        guard !isDraining else { return }
        isDraining = true
        stopTakingClients()
        core.whenRequestsSettled { [weak self] in self?.finish() }
    }

    func whenDrainFlushed(_ completion: @escaping () -> Void) {
        core.whenRequestsSettled { [weak self] in
            guard let self else { return completion() }
            self.whenFlushed(completion)
        }
    }

    func forceDrain() {
        finish()
        closeNow()
    }
}

extension StdioFrontend: Frontend, DrainSteps {
    public var serviceName: String { "the stdio frontend" }
    public func beginDrain() { drainWhenSettled() }
    public func whenDrained(_ completion: @escaping () -> Void) { whenDrainFlushed(completion) }
    public func forceStop() { forceDrain() }
    func stopTakingClients() {}
    func whenFlushed(_ completion: @escaping () -> Void) { whenOutputClosed(completion) }
}

extension UnixSocketFrontend: Frontend, DrainSteps {
    public var serviceName: String { "the Unix socket frontend" }
    public func beginDrain() { drainWhenSettled() }
    public func whenDrained(_ completion: @escaping () -> Void) { whenDrainFlushed(completion) }
    public func forceStop() { forceDrain() }
    func stopTakingClients() { stopListening() }
    func whenFlushed(_ completion: @escaping () -> Void) { whenOutputClosed(completion) }
}

extension StreamableHTTPFrontend: Frontend, DrainSteps {
    public var serviceName: String { "the HTTP frontend" }
    public func start() throws { _ = try startListening() }
    public func beginDrain() { drainWhenSettled() }
    public func whenDrained(_ completion: @escaping () -> Void) { whenDrainFlushed(completion) }
    public func forceStop() { forceDrain() }
    func stopTakingClients() { stopAccepting() }
    func whenFlushed(_ completion: @escaping () -> Void) { whenConnectionsClosed(completion) }
    func closeNow() { closeConnections() }
}
