import IO
import Proxy

/// What carries clients into the core. As a `Service` a frontend drains in three steps: it
/// stops taking new clients at once, waits until the core has answered every request (or
/// failed those left at the shutdown deadline), then flushes what each client is owed and
/// closes. Its drain is over when the last byte is written or the last connection closed.
public protocol Frontend: Service {
    /// Bytes written for clients that they have not read yet.
    var pendingOutputBytes: Int { get }
    /// Flushes what is queued and closes every client connection.
    func finish()
}

extension StdioFrontend: Frontend {
    public var serviceName: String { "the stdio frontend" }

    public func beginDrain() {
        guard !isDraining else { return }
        isDraining = true
        core.whenRequestsSettled { [weak self] in self?.finish() }
    }

    public func whenDrained(_ completion: @escaping () -> Void) { whenOutputClosed(completion) }

    public func forceStop() { closeNow() }
}

extension UnixSocketFrontend: Frontend {
    public var serviceName: String { "the Unix socket frontend" }

    public func beginDrain() {
        guard !isDraining else { return }
        isDraining = true
        stopListening()
        core.whenRequestsSettled { [weak self] in self?.finish() }
    }

    public func whenDrained(_ completion: @escaping () -> Void) {
        core.whenRequestsSettled { [weak self] in
            guard let self else { return completion() }
            self.whenOutputClosed(completion)
        }
    }

    public func forceStop() {
        finish()
        closeNow()
    }
}

extension StreamableHTTPFrontend: Frontend {
    public var serviceName: String { "the HTTP frontend" }

    public func start() throws { _ = try startListening() }

    public func beginDrain() {
        guard !isDraining else { return }
        isDraining = true
        stopAccepting()
        core.whenRequestsSettled { [weak self] in self?.finish() }
    }

    public func whenDrained(_ completion: @escaping () -> Void) {
        core.whenRequestsSettled { [weak self] in
            guard let self else { return completion() }
            self.whenConnectionsClosed(completion)
        }
    }

    public func forceStop() {
        finish()
        closeConnections()
    }
}
