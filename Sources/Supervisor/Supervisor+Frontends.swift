import Config
import IO
import Logging
import Frontends
import Glibc
import Network
import Proxy

/// A frontend that could not start, with the reason.
struct FrontendStartError: Error, CustomStringConvertible {
    let description: String
}

extension Supervisor {
    /// Builds what carries clients, unstarted: the Unix socket (`--listen`), Streamable HTTP
    /// (`[http]` or `--http`), stdio (when neither, or `[http] stdio = true`), and the admin
    /// endpoints, which listen on their own address or share the HTTP frontend's.
    ///
    /// A listener the outer process handed down (`inherited`) is accepted on; any other is bound here.
    func buildFrontends(core: ProxyCore, inherited: inout InheritedListeners) throws(FrontendStartError) {
        let http = options.effectiveHTTP(config)
        let adminAddress = options.effectiveAdminAddress(config)
        if http.isEnabled || adminAddress != nil {
            admin = AdminEndpoints(
                readiness: { [unowned self] in readiness },
                metrics: { [unowned self] in metricsText },
                status: { [unowned self] in status })
        }
        if let adminAddress, let admin {
            adminListener = AdminListener(
                endpoints: admin, address: adminAddress, inherited: inherited.take(.admin(adminAddress)), loop: loop, log: log)
        }
        if let path = options.listenPath {
            frontends.append(
                UnixSocketFrontend(
                    path: path, inherited: inherited.take(.unix(path: path)), core: core, loop: loop, maxMessageBytes: config.limits.maxMessageBytes,
                    maxQueuedBytes: config.limits.maxQueuedBytes, log: log))
        }
        if http.isEnabled {
            let token = try Self.loadToken(http.bearerToken)
            var sockets: [ListenAddress: Int32] = [:]
            for address in http.listen + http.tlsListen {
                if let descriptor = inherited.take(.http(address)) { sockets[address] = descriptor }
            }
            let frontend = StreamableHTTPFrontend(
                settings: http, inherited: sockets, maxMessageBytes: config.limits.maxMessageBytes,
                maxQueuedBytes: config.limits.maxQueuedBytes, token: token, core: core, loop: loop, log: log,
                admin: adminAddress == nil ? admin : nil)
            frontends.append(frontend)
            httpFrontend = frontend
        }
        if options.listenPath == nil && (!http.isEnabled || http.alsoStdio) {
            let stdio = StdioFrontend(
                core: core, loop: loop, maxMessageBytes: config.limits.maxMessageBytes,
                maxQueuedBytes: config.limits.maxQueuedBytes, log: log)
            let alone = !http.isEnabled
            stdio.onEnd = { [weak self] ending in
                self?.log.info("client finished (\(ending))")
                // With HTTP clients still served, the end of stdin ends only the stdio session.
                if alone { self?.beginShutdown(reason: "\(ending)") }
            }
            frontends.append(stdio)
        }
    }

    var endpointDescription: String {
        var endpoints: [String] = []
        if let path = options.listenPath { endpoints.append(path) }
        if let httpFrontend {
            endpoints += httpFrontend.addresses.map { address in
                StreamableHTTPFrontend.url(of: address, tls: httpFrontend.tlsAddresses.contains(address), path: config.http.path)
            }
        }
        if frontends.contains(where: { $0 is StdioFrontend }) { endpoints.append("stdio") }
        return endpoints.joined(separator: ", ")
    }

    /// The bearer token HTTP clients must present, from the environment or a file; never logged.
    static func loadToken(_ source: BearerTokenSource?) throws(FrontendStartError) -> [UInt8]? {
        switch source {
        case nil:
            return nil
        case .environment(let name):
            guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else {
                throw FrontendStartError(description: "http.auth_token_env names \(name), which is not set or empty")
            }
            return Array(value.utf8)
        case .file(let path):
            guard let file = fopen(path, "r") else {
                throw FrontendStartError(description: "cannot read http.auth_token_file \(path): \(String(cString: strerror(errno)))")
            }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
                if bytes.count > 65536 { break }
            }
            while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
            guard !bytes.isEmpty else { throw FrontendStartError(description: "http.auth_token_file \(path) is empty") }
            return bytes
        }
    }

    /// `/readyz`: serving, plugin pools loaded, every upstream up.
    var readiness: AdminEndpoints.Readiness {
        guard phase == .serving else { return .init(isReady: false, detail: phase == .starting ? "starting" : "shutting down") }
        guard pluginsPrepared else { return .init(isReady: false, detail: "plugin pools are loading") }
        guard let core else { return .init(isReady: false, detail: "no proxy") }
        let upstreams = core.upstreamReadiness
        return .init(isReady: upstreams.isReady, detail: "generation \(core.generation); \(upstreams.detail)")
    }
}

/// The admin endpoints on an address of their own (`[admin] listen`), as a member of the
/// supervisor's service group: the first started and the last drained, so that `/readyz`
/// reports the drain until the end.
final class AdminListener: Service {
    let endpoints: AdminEndpoints
    private let address: ListenAddress
    private let inherited: Int32?
    private let loop: EventLoop
    private let log: Logger

    init(endpoints: AdminEndpoints, address: ListenAddress, inherited: Int32?, loop: EventLoop, log: Logger) {
        self.endpoints = endpoints
        self.address = address
        self.inherited = inherited
        self.loop = loop
        self.log = log
    }

    var serviceName: String { "the admin endpoints" }

    func start() throws {
        _ = try endpoints.listen(on: address, inherited: inherited, loop: loop, log: log)
    }

    func beginDrain() { endpoints.close() }
    func whenDrained(_ completion: @escaping () -> Void) { completion() }
    func forceStop() { endpoints.close() }
}
