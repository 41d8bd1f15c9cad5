import Config
import Frontends
import Glibc
import IO
import JSON
import Logging
import Plugins
import Processes
import Proxy

/// Hosts the proxy: wires the frontend to the core on one event loop, turns signals into
/// shutdown and status dumps, and decides the exit status.
public final class Supervisor {
    private enum Phase { case starting, serving, shuttingDown, finished }

    private let config: PlugboardConfig
    private let log: Logger
    private let loop = EventLoop()
    private var phase = Phase.starting
    private var core: ProxyCore?
    private var frontend: StdioFrontend?
    private var signalWatcher: SignalWatcher?
    private let startedAt = EventLoop.now()
    private var exitStatus: Int32 = 0

    public init(config: PlugboardConfig, log: Logger) {
        self.config = config
        self.log = log.tagged("supervisor")
    }

    /// Runs until the client goes away or a terminating signal arrives; returns the exit status.
    /// Call from the main thread before any other thread starts (signals are blocked for it).
    public func run() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let loop = self.loop
        let bound = LoopBound(self, loop: loop)
        signalWatcher = SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGQUIT]) { signal in
            loop.execute { bound.value.received(signal: signal) }
        }
        loop.execute { bound.value.start() }
        loop.run()
        signalWatcher?.stop()
        log.info("stopped")
        return exitStatus
    }

    private func start() {
        let plugins: PluginRegistry
        do {
            plugins = try PluginRegistry(config: config, loop: loop, log: log)
        } catch {
            log.error("\(error)")
            exitStatus = 1
            loop.stop()
            return
        }
        let core = ProxyCore(config: config, loop: loop, log: log, plugins: plugins)
        let frontend = StdioFrontend(
            core: core, loop: loop, maxMessageBytes: config.limits.maxMessageBytes,
            maxQueuedBytes: config.limits.maxQueuedBytes, log: log)
        frontend.onEnd = { [weak self] ending in
            self?.log.info("client finished (\(ending))")
            self?.beginShutdown(reason: "\(ending)")
        }
        self.core = core
        self.frontend = frontend
        core.start()
        frontend.start()
        phase = .serving
        log.info("plugboard \(PlugboardVersion.current) ready on stdio", ["config": config.directory, "pid": "\(getpid())"])
    }

    private func received(signal: Int32) {
        switch signal {
        case SIGUSR1:
            dumpStatus()
        case SIGHUP:
            log.notice("SIGHUP received: live reload is not available in this version; restart plugboard to apply changes")
        default:
            if phase == .shuttingDown {
                log.warning("\(signalName(signal)) received again: stopping upstreams now")
                core?.shutdown(deadline: .milliseconds(0)) {}
                finishSoon(force: true)
            } else {
                beginShutdown(reason: signalName(signal))
            }
        }
    }

    private func beginShutdown(reason: String) {
        guard phase == .serving || phase == .starting, let core else { return }
        phase = .shuttingDown
        log.info("shutting down (\(reason))")
        core.shutdown(deadline: config.limits.shutdownTimeout) { [weak self] in
            self?.finishSoon(force: false)
        }
    }

    /// Lets stdout drain (bounded), then ends the loop.
    private func finishSoon(force: Bool) {
        guard phase != .finished else { return }
        frontend?.finish()
        let deadline = EventLoop.now() + (force ? 0 : 2_000_000_000)
        func check() {
            if (frontend?.pendingOutputBytes ?? 0) == 0 || EventLoop.now() >= deadline {
                phase = .finished
                loop.stop()
            } else {
                loop.schedule(afterNanoseconds: 10_000_000) { check() }
            }
        }
        check()
    }

    private func dumpStatus() {
        var status: JSONObject = [
            "pid": .number(JSONNumber(Int64(getpid()))),
            "version": .string(PlugboardVersion.current),
            "uptimeSeconds": .number(JSONNumber(Double(EventLoop.now() - startedAt) / 1e9)),
            "config": .string(config.directory),
            "openDescriptors": .number(JSONNumber(DescriptorCensus.openDescriptors().count)),
        ]
        if let core { status["proxy"] = .object(core.status) }
        log.notice("status \(JSONValue.object(status).serializedString)")
    }
}
