import Config
import Frontends
import Glibc
import IO
import JSON
import Logging
import Network
import Plugins
import Processes
import Proxy
import Watcher

/// Hosts the proxy: wires the frontend to the core on one event loop, reloads the configuration
/// and plugins as new generations, turns signals into shutdown, reloads and status dumps, keeps
/// the service manager informed, and decides the exit status.
public final class Supervisor {
    enum Phase { case starting, serving, shuttingDown, finished }
    /// A reload runs alone; changes that arrive meanwhile cause exactly one follow-up.
    private enum ReloadState { case idle, reloading(followUp: Bool) }

    var config: PlugboardConfig
    let options: SupervisorOptions
    let log: Logger
    let loop: EventLoop
    var phase = Phase.starting
    private var reloadState = ReloadState.idle
    var core: ProxyCore?
    var plugins: PluginRegistry?
    var frontends: [Frontend] = []
    /// Every long-lived part, in start order: admin endpoints, core, frontends, watcher.
    lazy var services = ServiceGroup(loop: loop) { [log] line in log.warning(line) }
    var adminListener: AdminListener?
    var httpFrontend: StreamableHTTPFrontend?
    var admin: AdminEndpoints?
    /// The plugin pools of generation 1 have loaded (or said why they cannot): READY was sent.
    var pluginsPrepared = false
    private var signalWatcher: SignalWatcher?
    private var notifier: StatusNotifier?
    var watcher: DirectoryWatcher?
    private var loopWatchdog: LoopWatchdog?
    private let startedAt = EventLoop.now()
    private var generationLoadedAt = ""
    private var generationReason = "startup"
    var lastReload: ReloadRecord?
    var reloadCount = 0
    private var exitStatus: Int32 = 0
    /// The channel to the outer process, when this process is its core.
    private var control: CoreControl?
    private var terminatingSignals = 0
    var coreRestarts: Int { control?.hostStatus.restarts ?? 0 }
    /// The process that was started and that signals go to: the outer one when this is a core.
    var instancePID: pid_t { control == nil ? getpid() : getppid() }
    /// The file watcher's counters: this process's own, or those of the outer process, which
    /// watches when the core is its child.
    var watcherCounters: WatcherCounters? { watcher?.counters ?? control?.hostStatus.watcher }

    public init(config: PlugboardConfig, options: SupervisorOptions = SupervisorOptions(), log: Logger) {
        self.config = config
        loop = EventLoop(spinNanoseconds: UInt64(config.limits.busyPollMicroseconds) * 1000)
        self.options = options
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
        control = CoreControl.fromEnvironment(loop: loop)
        let loopWatchdog = LoopWatchdog(loop: loop, log: log)
        self.loopWatchdog = loopWatchdog
        loopWatchdog.start()
        loop.run()
        loopWatchdog.stop()
        signalWatcher?.stop()
        if let pidFile = options.pidFile, control == nil { unlink(pidFile) }
        log.info("stopped")
        return exitStatus
    }

    private func start() {
        // A core's outer process keeps the pid file and talks to the service manager.
        if let control {
            control.onHostGone = { [weak self] in self?.beginShutdown(reason: "the outer process is gone") }
            control.onReload = { [weak self] reason in self?.requestReload(reason: reason) }
            control.onStop = { [weak self] stop in
                if stop.now { self?.stopNow(because: "\(stop.signal) to the outer process, again") } else { self?.beginShutdown(reason: "\(stop.signal) to the outer process") }
            }
            control.start()
            notifier = control
        } else {
            notifier = ServiceNotifier(notifyDescriptor: options.notifyDescriptor)
        }
        if OrphanReaper.adoptOrphans() {
            scheduleOrphanReaping()
        } else {
            log.warning("cannot become a child subreaper; orphans of plugins and servers go to init")
        }
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
        self.core = core
        self.plugins = plugins
        generationLoadedAt = Timestamp.now(withMilliseconds: false)
        do {
            // Only a core is handed listeners; anywhere else the variable is someone else's.
            var inherited = control == nil ? InheritedListeners() : try InheritedListeners.fromEnvironment()
            defer {
                // The configuration no longer names these (it changed since the outer process
                // bound them): it closes its copies too, so that they refuse instead of hang.
                control?.reportUnclaimed(inherited.descriptors.keys.map(\.description))
                inherited.closeAll()
            }
            try buildFrontends(core: core, inherited: &inherited)
            let flush: UInt64 = 2_000_000_000
            let requests = config.limits.shutdownTimeout.nanoseconds
            if let adminListener { services.add(adminListener, graceNanoseconds: flush) }
            // The core's own timers end its upstreams (EOF, SIGTERM, SIGKILL); this is the backstop.
            services.add(core, graceNanoseconds: requests + 10_000_000_000)
            for frontend in frontends { services.add(frontend, graceNanoseconds: requests + flush) }
            try services.start()
        } catch {
            log.error("\(error)")
            exitStatus = 1
            services.forceStop()
            loop.stop()
            return
        }
        // A core's outer process watches, and says when to reload.
        if options.watch && control == nil { startWatching() }
        if control == nil { writePidFile() }
        phase = .serving
        control?.announceReady()
        if let stop = control?.stopRequest { beginShutdown(reason: "\(stop.signal) to the outer process") }
        log.info("plugboard \(PlugboardVersion.current) ready on \(endpointDescription)", ["config": config.directory, "pid": "\(instancePID)"])
        // READY only once the plugin pools have loaded their plugins (or said why they cannot).
        plugins.prepare { [weak self] failures in
            for (name, reason) in failures.sorted(by: { $0.key < $1.key }) {
                self?.log.error("plugin '\(name)' is not available: \(reason)")
            }
            self?.pluginsPrepared = true
            self?.notifier?.ready(status: failures.isEmpty ? "serving generation 1" : "serving generation 1; \(failures.count) plugin(s) unavailable")
        }
        scheduleWatchdog()
    }

    /// Watches the config directory (TOML files) and the plugins directory (everything but tests)
    /// and reloads once per settled change.
    private func startWatching() {
        let watcher = Self.makeWatcher(config: config, loop: loop, log: log)
        watcher.onChange = { [weak self] changes in
            self?.requestReload(reason: Self.describe(changes))
        }
        do {
            try watcher.start()
            self.watcher = watcher
            services.addStarted(watcher, graceNanoseconds: nil)
            log.info("watching \(config.directory) and \(config.pluginsDirectory) for changes")
        } catch {
            log.error("not watching for changes: \(error); SIGHUP still reloads")
        }
    }

    /// A watcher of the configuration directory's `.toml` files and of the plugins directory.
    static func makeWatcher(config: PlugboardConfig, loop: EventLoop, log: Logger) -> DirectoryWatcher {
        let skipped: Set<String> = [".git", ".hg", ".svn", "test", "tests"]
        let roots = [
            WatchedRoot(path: config.directory, recursive: true, include: WatchedRoot.suffixes(".toml")),
            WatchedRoot(
                path: config.pluginsDirectory, recursive: true,
                descend: { !skipped.contains(String($0.split(separator: "/").last ?? "")) }),
        ]
        return DirectoryWatcher(loop: loop, roots: roots) { [log] problem in log.warning(problem) }
    }

    static func describe(_ changes: ChangeSet) -> String {
        let names = changes.paths.map { String($0.split(separator: "/").last ?? "") }
        let shown = names.prefix(3).joined(separator: ", ")
        return "changed: " + (names.count > 3 ? "\(shown) and \(names.count - 3) more" : shown)
    }

    private func received(signal: Int32) {
        switch signal {
        case SIGUSR1:
            dumpStatus()
        case SIGHUP:
            requestReload(reason: "SIGHUP")
        default:
            terminatingSignals += 1
            // A core is also told to stop over its channel, and `pkill plugboard` signals it
            // besides: only a second signal of its own means "now".
            if phase == .shuttingDown && (control == nil || terminatingSignals > 1) {
                stopNow(because: "\(signalName(signal)) received again")
            } else {
                beginShutdown(reason: signalName(signal))
            }
        }
    }

    private func stopNow(because reason: String) {
        log.warning("\(reason): stopping now")
        services.forceStop()
        finish()
    }

    // MARK: Reloads

    private func requestReload(reason: String) {
        guard phase == .serving else { return }
        switch reloadState {
        case .idle: performReload(reason: reason)
        case .reloading: reloadState = .reloading(followUp: true)
        }
    }

    /// Builds the next generation beside the live one and switches only once it is whole:
    /// configuration parsed and validated, changed plugins loaded by a canary worker, changed
    /// upstreams started and initialized. Anything wrong leaves the live generation serving.
    private func performReload(reason: String) {
        reloadState = .reloading(followUp: false)
        watcher?.beginHandling()
        reloadCount += 1
        log.info("reloading (\(reason))")
        notifier?.reloading(status: "reloading: \(reason)")
        // Reading the configuration and hashing the plugins' files is disk work: off the loop.
        let directory = config.directory
        let me = LoopBound(SupervisorReference(self), loop: loop)
        BackgroundThread.run {
            let loaded: Result<(PlugboardConfig, PluginFingerprints), ConfigErrors>
            do throws(ConfigErrors) {
                let newConfig = try ConfigLoader.load(directory: directory)
                loaded = .success((newConfig, PluginFingerprints.compute(for: newConfig)))
            } catch {
                loaded = .failure(error)
            }
            me.loop.execute { me.value.supervisor?.continueReload(reason: reason, loaded) }
        }
    }

    private func continueReload(reason: String, _ loaded: Result<(PlugboardConfig, PluginFingerprints), ConfigErrors>) {
        guard phase == .serving else {
            reloadState = .idle
            return log.info("reload (\(reason)) dropped: plugboard is shutting down")
        }
        let newConfig: PlugboardConfig
        let fingerprints: PluginFingerprints
        switch loaded {
        case .success(let value): (newConfig, fingerprints) = value
        case .failure(let error): return finishReload(reason: reason, outcome: .rejected("invalid configuration:\n\(error)"))
        }
        let registry: PluginRegistry
        do {
            registry = try PluginRegistry(config: newConfig, loop: loop, log: log, previous: plugins, fingerprints: fingerprints)
        } catch {
            return finishReload(reason: reason, outcome: .rejected("\(error)"))
        }
        registry.prepare { [weak self] failures in
            guard let self, let core = self.core else { return }
            guard failures.isEmpty else {
                registry.discardFreshPools()
                let text = failures.sorted { $0.key < $1.key }.map { "plugin '\($0.key)': \($0.value)" }.joined(separator: "\n")
                return self.finishReload(reason: reason, outcome: .rejected(text))
            }
            core.reconfigure(to: newConfig, plugins: registry) { result in
                switch result {
                case .success(let changes):
                    if newConfig.http != self.config.http || newConfig.admin != self.config.admin {
                        self.log.notice("[http] and [admin] changes take effect when plugboard restarts; the listeners keep their settings")
                    }
                    self.plugins = registry
                    self.config = newConfig
                    self.generationLoadedAt = Timestamp.now(withMilliseconds: false)
                    self.generationReason = reason
                    self.finishReload(reason: reason, outcome: .adopted("\(changes)"))
                case .failure(let rejection):
                    registry.discardFreshPools()
                    self.finishReload(reason: reason, outcome: .rejected(rejection.reason))
                }
            }
        }
    }

    private func finishReload(reason: String, outcome: ReloadRecord.Outcome) {
        lastReload = ReloadRecord(reason: reason, at: Timestamp.now(withMilliseconds: false), outcome: outcome)
        let generation = core?.generation ?? 1
        switch outcome {
        case .adopted(let summary):
            log.notice("generation \(generation) is live (\(reason)): \(summary)")
            notifier?.ready(status: "serving generation \(generation)")
        case .rejected(let error):
            log.error("reload rejected, generation \(generation) keeps serving:\n\(error)")
            notifier?.ready(status: "serving generation \(generation); last reload rejected")
        }
        let followUp = if case .reloading(true) = reloadState { true } else { false }
        reloadState = .idle
        watcher?.endHandling()
        if followUp { requestReload(reason: "changes made during the previous reload") }
    }

    // MARK: Shutdown

    /// Drains the service group: the watcher stops, frontends stop taking clients, the core
    /// answers what is in flight (failing what is left at `limits.shutdown_timeout`) and stops
    /// its upstreams and plugins, frontends flush and close, then the admin endpoints close.
    func beginShutdown(reason: String) {
        guard phase == .serving || phase == .starting, core != nil else { return }
        phase = .shuttingDown
        notifier?.stopping()
        log.info("shutting down (\(reason))")
        services.shutdown { [weak self] in self?.finish() }
    }

    private func finish() {
        guard phase != .finished else { return }
        phase = .finished
        loop.stop()
    }

    // MARK: Health and status

    /// Orphans re-parented to plugboard (as PID 1 or subreaper) are reaped within a second.
    private func scheduleOrphanReaping() {
        loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self] in
            guard let self, self.phase != .finished else { return }
            let reaped = OrphanReaper.reapExitedOrphans()
            if reaped > 0 { self.log.debug("reaped \(reaped) orphaned process(es)") }
            self.scheduleOrphanReaping()
        }
    }

    /// systemd's watchdog gets a keep-alive at half its interval while the loop turns.
    private func scheduleWatchdog() {
        guard let interval = notifier?.watchdogInterval else { return }
        loop.schedule(afterNanoseconds: interval) { [weak self] in
            guard let self, self.phase == .serving || self.phase == .shuttingDown else { return }
            self.notifier?.watchdog()
            self.scheduleWatchdog()
        }
    }

    var status: JSONObject {
        var status: JSONObject = [
            "pid": .number(JSONNumber(Int64(instancePID))),
            "version": .string(PlugboardVersion.current),
            "uptimeSeconds": .number(JSONNumber(Double(EventLoop.now() - startedAt) / 1e9)),
            "config": .string(config.directory),
            "generation": [
                "number": .number(JSONNumber(core?.generation ?? 1)),
                "loadedAt": .string(generationLoadedAt),
                "reason": .string(generationReason),
            ],
            "lastReload": lastReload.map { .object($0.status) } ?? .null,
            "reloads": .number(JSONNumber(reloadCount)),
            "openDescriptors": .number(JSONNumber(DescriptorCensus.openDescriptors().count)),
            "loopStalls": .number(JSONNumber(loopWatchdog?.stallCount ?? 0)),
        ]
        if let core { status["proxy"] = .object(core.status.json) }
        status["core"] = control.map { control in
            var core = control.hostStatus.coreJSON
            core["pid"] = .number(JSONNumber(Int64(getpid())))
            return .object(core)
        } ?? ["isolated": false]
        if let httpFrontend { status["http"] = .object(httpFrontend.status) }
        if let counters = watcherCounters { status["watcher"] = .object(counters.json) }
        return status
    }

    private func dumpStatus() {
        let text = JSONValue.object(status).serializedString
        log.notice("status \(text)")
        guard let path = options.statusFile else { return }
        if !AtomicFile.write(text + "\n", to: path) {
            log.warning("could not write the status file \(path): \(String(cString: strerror(errno)))")
        }
    }

    private func writePidFile() {
        guard let path = options.pidFile else { return }
        if !AtomicFile.write("\(getpid())\n", to: path) {
            log.warning("could not write the pid file \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Writes a file so readers see the old contents or the new, never a mix (temp file + rename).
enum AtomicFile {
    static func write(_ text: String, to path: String) -> Bool {
        let temporary = "\(path).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return false }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }
}

/// A weak hold on the supervisor, to carry across threads inside a `LoopBound`.
final class SupervisorReference {
    weak var supervisor: Supervisor?
    init(_ supervisor: Supervisor) { self.supervisor = supervisor }
}
