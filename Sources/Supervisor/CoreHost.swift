import Config
import Glibc
import IO
import JSON
import JSONRPC
import Logging
import Network
import Processes
import Watcher

/// plugboard's outer process when the core runs as its child (`[core] isolate`; by default
/// when no client comes over stdio).
///
/// It holds what must outlive a core: the stdio client's stdin and stdout (relayed to the
/// core's own over two pipes, so the client never sees the core go), the listening sockets
/// (each core accepts on them), the file watcher (the core is told to reload), signals, the pid
/// file and the service manager's notifications. It pings the core over a control socket; a core that
/// crashes, stops answering (hung, spinning, stopped) or outgrows its memory cap is ended
/// (SIGTERM, then SIGKILL), every call it held is answered with an error, what it left running
/// is stopped, and a new core starts (with backoff when it keeps failing), initialized with the
/// client's own `initialize` so that the client's session goes on.
public final class CoreHost {
    private enum Phase: Equatable {
        /// A core is starting; the client's messages wait.
        case starting
        /// The new core is being given the client's `initialize`.
        case replaying
        case serving
        /// No core runs; the next starts at the restart timer.
        case restarting
        /// Shutting down: the core drains; plugboard exits when it has.
        case stopping
        case finished
    }

    private struct Core {
        let process: ChildProcess
        let relay: PipeChannel?
        let control: PipeChannel
        let startedAt: UInt64
        var becameReady = false
        /// The ping sent and not answered yet, with when it went.
        var unansweredPing: (number: Int, sentAt: UInt64)?
        /// Why plugboard itself is ending it, when it is.
        var endingBecause: String?
    }

    private let config: PlugboardConfig
    private let arguments: [String]
    private let options: SupervisorOptions
    private let log: Logger
    /// No busy-polling: the relay's CPU is the core's and the client's to use.
    private let loop = EventLoop(spinNanoseconds: 0)
    private let relaysStdio: Bool
    /// Every listening socket, bound here once and accepted on by each core in turn: while no
    /// core runs, new connections wait in the backlog.
    private var listeners = InheritedListeners()
    private var phase = Phase.starting
    private var core: Core?
    private var client: PipeChannel?
    private var ledger = RelayLedger()
    /// Client messages that arrived while no core could take them, with their total size.
    private var waiting: [[UInt8]] = []
    private var waitingBytes = 0
    private var notifier: ServiceNotifier?
    private var toldStopping = false
    private var signalWatcher: SignalWatcher?
    private var nextPing = 1
    private var failuresInARow = 0
    private var history = HostStatus()
    private var watcher: DirectoryWatcher?
    /// Files that changed while no core served.
    private var pendingReload: String?
    private var failedAt: UInt64?
    private var exitStatus: Int32 = 0
    private static let replayID = Array(#""plugboard-replay""#.utf8)

    /// Whether this process was started by a host, as its core.
    public static var isCore: Bool { getenv(CoreControl.environmentKey) != nil }

    /// `arguments` are this process's own (after the executable): the core runs with the same.
    public init(config: PlugboardConfig, arguments: [String], options: SupervisorOptions, log: Logger) {
        self.config = config
        self.arguments = arguments
        self.options = options
        self.log = log.tagged("host")
        relaysStdio = options.servesStdio(config)
    }

    /// Runs until the core has finished for good; returns the exit status.
    public func run() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let bound = LoopBound(self, loop: loop)
        let loop = self.loop
        signalWatcher = SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGQUIT]) { signal in
            loop.execute { bound.value.received(signal: signal) }
        }
        loop.execute { bound.value.start() }
        loop.run()
        signalWatcher?.stop()
        if let pidFile = options.pidFile { unlink(pidFile) }
        return exitStatus
    }

    private func start() {
        notifier = ServiceNotifier(notifyDescriptor: options.notifyDescriptor)
        if OrphanReaper.adoptOrphans() { scheduleOrphanReaping() }
        if let pidFile = options.pidFile, !AtomicFile.write("\(getpid())\n", to: pidFile) {
            log.warning("could not write the pid file \(pidFile): \(String(cString: strerror(errno)))")
        }
        do {
            listeners = try InheritedListeners.bind(options.listenEndpoints(config))
        } catch {
            log.error("cannot listen: \(error)")
            exitStatus = 1
            return finish()
        }
        if relaysStdio { openClient() }
        spawnCore()
        if options.watch { startWatching() }
        scheduleHealthCheck()
        scheduleWatchdog()
    }

    // MARK: The client

    private func openClient() {
        let limits = config.limits
        let client = PipeChannel(
            name: "stdio", loop: loop, input: STDIN_FILENO, output: STDOUT_FILENO,
            maxMessageBytes: limits.maxMessageBytes, maxQueuedBytes: limits.maxQueuedBytes)
        client.pauseInputAbove = limits.maxQueuedBytes / 2
        client.onMessage = { [weak self] line in self?.fromClient(line) }
        client.onOversizedMessage = { [weak self] size, head in
            self?.toClient(
                JSONRPCMessage.error(
                    idText: JSONRPCEnvelope.id(inPrefix: head)?.jsonBytes, code: JSONRPCErrorCode.invalidRequest,
                    message: "Message of \(size) bytes exceeds the limit of \(limits.maxMessageBytes) bytes (limits.max_message_bytes)"))
        }
        client.onInputClosed = { [weak self] _ in self?.clientFinished() }
        client.onOutputFailed = { [weak self] _ in self?.clientFinished() }
        client.start()
        self.client = client
    }

    private func fromClient(_ line: [UInt8]) {
        if phase == .serving, let relay = core?.relay, relay.isOutputOpen {
            ledger.clientSent(line)
            if case .peerNotReading = relay.send(line) { refuse(line, because: "plugboard's core is not reading its input") }
            return
        }
        guard waitingBytes + line.count <= config.limits.maxQueuedBytes else {
            return refuse(line, because: "plugboard's core is restarting and \(waitingBytes) bytes already wait for it")
        }
        waiting.append(line)
        waitingBytes += line.count
    }

    /// Lines written after the core's end of the pipe closed (it died, and this process has
    /// not heard yet): they never reached it, so they wait for the next core, first in line.
    private func undelivered(_ lines: [[UInt8]]) {
        // The host's own lines are not handed on: a next core is initialized afresh, with the
        // client's `initialize` replayed and `initialized` sent after its answer.
        var lines = lines.filter { JSONRPCEnvelope.id(inPrefix: $0)?.jsonBytes != Self.replayID }
        if let initialize = ledger.initialize, !lines.contains(initialize), !waiting.contains(initialize) {
            lines.removeAll { (try? JSONRPCEnvelope.scan($0))?.method == "notifications/initialized" }
        }
        for line in lines { ledger.withdraw(line) }
        waiting.insert(contentsOf: lines, at: 0)
        waitingBytes += lines.reduce(0) { $0 + $1.count }
    }

    /// Answers a request that cannot reach a core, under its own id.
    private func refuse(_ line: [UInt8], because reason: String) {
        guard let envelope = try? JSONRPCEnvelope.scan(line), envelope.kind == .request, let range = envelope.idRange else {
            return log.warning("dropped a client message: \(reason)")
        }
        let id = Array(line[range])
        ledger.coreSent(JSONRPCMessage.error(idText: id, code: JSONRPCErrorCode.internalError, message: reason))
        toClient(JSONRPCMessage.error(idText: id, code: JSONRPCErrorCode.internalError, message: reason))
    }

    private func toClient(_ line: [UInt8]) {
        guard let client else { return }
        if case .peerNotReading(let queued) = client.send(line) {
            log.error("the client has not read \(queued) bytes of stdout (limits.max_queued_bytes); ending its session")
            client.close()
            clientFinished()
        }
    }

    /// The client is done (stdin closed) or gone: the core sees its stdin end and finishes.
    private func clientFinished() {
        switch phase {
        case .stopping, .finished: return
        case .starting, .replaying, .serving:
            phase = .stopping
            closeListeners()
            core?.relay?.closeOutputAfterFlush()
        case .restarting:
            finish()
        }
    }

    // MARK: Watching

    /// Changes are the core's to load: it is told to reload, and keeps serving what it has
    /// when the new files are wrong. A core starting meanwhile reads the files as they are.
    private func startWatching() {
        let watcher = Supervisor.makeWatcher(config: config, loop: loop, log: log)
        watcher.onChange = { [weak self] changes in self?.filesChanged(Supervisor.describe(changes)) }
        do {
            try watcher.start()
            self.watcher = watcher
            log.info("watching \(config.directory) and \(config.pluginsDirectory) for changes")
        } catch {
            log.error("not watching for changes: \(error); SIGHUP still reloads")
        }
    }

    private func filesChanged(_ reason: String) {
        guard let core, core.becameReady else {
            // It may have read its files before they changed: it reloads once it serves.
            pendingReload = reason
            return
        }
        sendHostStatus()
        tellReload(core, reason)
    }

    private func tellReload(_ core: Core, _ reason: String) {
        _ = core.control.send(JSONValue.object(["reload": .string(reason)]).serialized())
    }

    // MARK: The core

    private func spawnCore() {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            return coreFailedToStart("socketpair failed: \(String(cString: strerror(errno)))")
        }
        // The child finds its passed descriptors from 3 on, in order: the control socket, then the listeners.
        let passed = listeners.descriptors.sorted { $0.key.description < $1.key.description }
        let controlDescriptor = ChildProcess.firstPassedDescriptor
        var environment = ChildProcess.inheritedEnvironment()
        environment[CoreControl.environmentKey] = String(controlDescriptor)
        environment["NOTIFY_SOCKET"] = nil
        environment[InheritedListeners.environmentKey] = nil
        if !passed.isEmpty {
            let numbering = Dictionary(uniqueKeysWithValues: passed.enumerated().map { ($1.key, controlDescriptor + 1 + Int32($0)) })
            environment[InheritedListeners.environmentKey] = listeners.environmentValue(numbering: numbering)
        }
        let listeners = passed.map { FileDescriptor(rawValue: $0.value) }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                ChildProcess.Configuration(
                    executable: Self.executablePath(), arguments: arguments, environment: environment,
                    standardInput: relaysStdio ? .pipe : .discard, standardOutput: relaysStdio ? .pipe : .discard,
                    standardError: .inherit, passedDescriptors: [FileDescriptor(rawValue: pair[1])] + listeners))
        } catch {
            close(pair[0])
            close(pair[1])
            return coreFailedToStart("\(error)")
        }
        close(pair[1])
        let relay = relaysStdio
            ? PipeChannel(
                name: "core", loop: loop, input: process.standardOutput?.rawValue, output: process.standardInput?.rawValue,
                maxMessageBytes: config.limits.maxMessageBytes + 65_536, maxQueuedBytes: config.limits.maxQueuedBytes)
            : nil
        relay?.onMessage = { [weak self] line in self?.fromCore(line) }
        relay?.onUndelivered = { [weak self] lines in self?.undelivered(lines) }
        relay?.onOversizedMessage = { [weak self] size, head in
            guard let self, let id = JSONRPCEnvelope.id(inPrefix: head)?.jsonBytes else { return }
            let message = JSONRPCMessage.error(
                idText: id, code: JSONRPCErrorCode.internalError, message: "plugboard's core sent an answer of \(size) bytes, over the limit")
            self.ledger.coreSent(message)
            self.toClient(message)
        }
        relay?.start()
        let control = PipeChannel(name: "core control", loop: loop, input: pair[0], output: dup(pair[0]), maxMessageBytes: 1 << 20, maxQueuedBytes: 1 << 20)
        control.onMessage = { [weak self] line in self?.controlMessage(line) }
        control.start()
        core = Core(process: process, relay: relay, control: control, startedAt: loop.now())
        phase = phase == .stopping ? .stopping : .starting
        let bound = LoopBound(self, loop: loop)
        let pid = process.pid
        process.onExit { [loop] status in
            loop.execute { bound.value.coreExited(pid: pid, status: status) }
        }
        log.debug("core started", ["pid": "\(process.pid)"])
    }

    /// This executable, to run again as the core.
    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func fromCore(_ line: [UInt8]) {
        if phase == .replaying, line.starts(with: Array(#"{"jsonrpc":"2.0","id":"#.utf8) + Self.replayID) {
            if ledger.sawInitialized, let relay = core?.relay {
                _ = relay.send(JSONRPCMessage.notification(method: "notifications/initialized"))
            }
            return beginServing()
        }
        ledger.coreSent(line)
        toClient(line)
    }

    private func controlMessage(_ line: [UInt8]) {
        guard var core, let message = try? JSONParser.parse(line) else { return }
        if let pong = message["pong"]?.int64Value, core.unansweredPing?.number == Int(pong) {
            core.unansweredPing = nil
            self.core = core
        } else if message["ready"] != nil {
            coreReady()
        } else if let unclaimed = message["unclaimed"]?.arrayValue {
            closeUnclaimed(unclaimed.compactMap(\.stringValue))
        } else if let event = message["notify"]?.stringValue {
            let status = message["status"]?.stringValue ?? ""
            switch event {
            case "ready": notifier?.ready(status: history.restarts == 0 ? status : "\(status) (core restarted \(history.restarts) time(s))")
            case "reloading": notifier?.reloading(status: status)
            case "stopping": notifyStopping()
            default: break
            }
        }
    }

    private func coreReady() {
        guard var core, !core.becameReady else { return }
        core.becameReady = true
        self.core = core
        if let failedAt, history.restarts > 0 {
            let milliseconds = Double(loop.now() - failedAt) / 1e6
            history.lastRestart?.recoveryMilliseconds = milliseconds
            log.notice("a new core serves (pid \(core.process.pid)), \(Int(milliseconds)) ms after the last one failed")
        }
        failedAt = nil
        sendHostStatus()
        if let reason = pendingReload {
            pendingReload = nil
            tellReload(core, reason)
        }
        guard phase == .starting else { return }
        // An `initialize` still waiting here never reached a core: it goes with the rest.
        if let initialize = ledger.initialize, !waiting.contains(initialize), let replay = Self.withReplayID(initialize), let relay = core.relay {
            phase = .replaying
            _ = relay.send(replay)
        } else {
            beginServing()
        }
    }

    /// The client's `initialize`, under an id of plugboard's own, for a new core.
    private static func withReplayID(_ line: [UInt8]) -> [UInt8]? {
        guard let envelope = try? JSONRPCEnvelope.scan(line), let range = envelope.idRange else { return nil }
        return Array(line[..<range.lowerBound]) + replayID + Array(line[range.upperBound...])
    }

    private func beginServing() {
        phase = .serving
        let queued = waiting
        waiting = []
        waitingBytes = 0
        for line in queued { fromClient(line) }
    }

    /// The core's status dump carries what only the host knows: restarts, their causes, and
    /// the watcher's counters.
    private func sendHostStatus() {
        history.watcher = watcher?.counters
        _ = core?.control.send(history.message.serialized())
    }

    private func coreExited(pid: Int32, status: ExitStatus) {
        guard let ended = core, ended.process.pid == pid else { return }
        core = nil
        ended.control.close()
        // Answers the core wrote before it died are still in the pipe: they are the client's.
        ended.relay?.drainInput()
        ended.relay?.close()
        if phase == .stopping || phase == .finished {
            if case .exited(let code) = status { exitStatus = code } else { exitStatus = 1 }
            return finish()
        }
        if !ended.becameReady && history.restarts == 0 {
            // The first core never came up (a configuration it rejects, a port in use): nothing
            // to keep alive, and its own log said why.
            log.error("the core exited before it was ready (\(status))")
            exitStatus = { if case .exited(let code) = status, code != 0 { return code } else { return 1 } }()
            return finish()
        }
        let cause = ended.endingBecause ?? "it exited: \(status)"
        failedAt = failedAt ?? loop.now()
        history.restarts += 1
        failuresInARow = ended.becameReady && loop.now() - ended.startedAt > 30_000_000_000 ? 1 : failuresInARow + 1
        history.lastRestart = HostStatus.Restart(cause: cause, at: Timestamp.now(withMilliseconds: false))
        let errors = ledger.failOutstanding(because: cause)
        let delay = restartDelay()
        log.error(
            "the core failed (\(cause)); \(errors.count) call(s) in flight answered with errors; a new core starts in \(delay / 1_000_000) ms (restart \(history.restarts))")
        for error in errors { toClient(error) }
        stopOrphans()
        phase = .restarting
        notifier?.reloading(status: "restarting the core: \(cause)")
        loop.schedule(afterNanoseconds: delay) { [weak self] in
            guard let self, self.phase == .restarting else { return }
            self.phase = .starting
            self.spawnCore()
        }
    }

    private func coreFailedToStart(_ reason: String) {
        log.error("cannot start the core: \(reason)")
        exitStatus = 1
        finish()
    }

    private func restartDelay() -> UInt64 {
        let initial = max(config.core.restartBackoffInitial.nanoseconds, 1_000_000)
        let delay = initial << UInt64(min(max(failuresInARow - 1, 0), 20))
        return min(delay, config.core.restartBackoffMax.nanoseconds)
    }

    /// What a dead core left running (its upstream servers and plugin workers, re-parented to
    /// this process) is ended: SIGTERM to each process group, SIGKILL a moment later.
    private func stopOrphans() {
        let orphans = Self.childProcesses(of: getpid()).filter { $0 != core?.process.pid }
        guard !orphans.isEmpty else { return }
        log.info("stopping \(orphans.count) process(es) the failed core left behind")
        for pid in orphans { if kill(-pid, SIGTERM) != 0 { kill(pid, SIGTERM) } }
        loop.schedule(afterNanoseconds: 2_000_000_000) {
            for pid in orphans { if kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) } }
        }
    }

    private static func childProcesses(of parent: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var children: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name), let stat = FileSystem.readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == parent { children.append(pid) }
        }
        return children
    }

    // MARK: Health

    private func scheduleHealthCheck() {
        loop.schedule(afterNanoseconds: config.core.healthCheckInterval.nanoseconds) { [weak self] in
            guard let self, self.phase != .finished else { return }
            self.checkHealth()
            self.scheduleHealthCheck()
        }
    }

    private func checkHealth() {
        guard var core, core.endingBecause == nil else { return }
        let now = loop.now()
        if let ping = core.unansweredPing {
            if now - ping.sentAt > config.core.healthCheckTimeout.nanoseconds {
                end(core, because: "it did not answer a health check within \(config.core.healthCheckTimeout) (hung, spinning or stopped)")
            }
            return
        }
        if config.core.maxMemoryMegabytes > 0, let resident = Self.residentBytes(of: core.process.pid),
            resident > config.core.maxMemoryMegabytes << 20
        {
            return end(core, because: "it used \(resident >> 20) MiB, over [core] max_memory_mb (\(config.core.maxMemoryMegabytes))")
        }
        if watcher != nil { sendHostStatus() }
        core.unansweredPing = (nextPing, now)
        _ = core.control.send(JSONValue.object(["ping": .number(JSONNumber(nextPing))]).serialized())
        nextPing += 1
        self.core = core
    }

    private func end(_ core: Core, because cause: String) {
        var core = core
        core.endingBecause = cause
        self.core = core
        failedAt = loop.now()
        log.error("ending the core (pid \(core.process.pid)): \(cause)")
        // A core that cannot answer a ping cannot drain either: SIGKILL follows soon.
        loop.escalate(core.process, termAfter: 0, killAfter: 250_000_000)
    }

    private static func residentBytes(of pid: pid_t) -> Int? {
        guard let statm = FileSystem.readText("/proc/\(pid)/statm") else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private func scheduleOrphanReaping() {
        loop.schedule(afterNanoseconds: 1_000_000_000) { [weak self] in
            guard let self, self.phase != .finished else { return }
            _ = OrphanReaper.reapExitedOrphans()
            self.scheduleOrphanReaping()
        }
    }

    // MARK: Signals and the end

    private func received(signal: Int32) {
        switch signal {
        case SIGUSR1, SIGHUP:
            if let core { core.process.signal(signal) } else { log.notice("the core is restarting (\(history.lastRestart?.cause ?? "?")); \(signalName(signal)) not delivered") }
        default:
            notifyStopping()
            guard let core else { return finish() }
            if signal == SIGQUIT { return core.process.signal(SIGQUIT) }
            // Told over the channel, not by a signal: `pkill plugboard` signals the core too,
            // and a second signal of its own would make it stop without draining.
            let again = phase == .stopping
            if !again { log.info("shutting down (\(signalName(signal)))") }
            closeListeners()
            _ = core.control.send(JSONValue.object(["stop": .string(signalName(signal)), "now": .bool(again)]).serialized())
            phase = .stopping
        }
    }

    /// Listeners the core's configuration no longer names: closed, so that they refuse rather
    /// than hold connections nobody accepts. The new addresses the core binds itself, without a
    /// backlog across its restarts until plugboard restarts.
    private func closeUnclaimed(_ names: [String]) {
        for endpoint in listeners.descriptors.keys where names.contains(endpoint.description) {
            log.warning("the configuration no longer listens on \(endpoint); closed (a restart of plugboard holds the new listeners across core restarts)")
            closeListener(endpoint)
        }
    }

    private func closeListeners() {
        for endpoint in listeners.descriptors.keys { closeListener(endpoint) }
    }

    /// Closes a listener this process bound; a Unix socket's path, being its own, goes too.
    private func closeListener(_ endpoint: InheritedListeners.Endpoint) {
        if let descriptor = listeners.take(endpoint) { close(descriptor) }
        if case .unix(let path) = endpoint { unlink(path) }
    }

    private func notifyStopping() {
        guard !toldStopping else { return }
        toldStopping = true
        notifier?.stopping()
    }

    private func scheduleWatchdog() {
        guard let interval = notifier?.watchdogInterval else { return }
        loop.schedule(afterNanoseconds: interval) { [weak self] in
            guard let self, self.phase != .finished else { return }
            self.notifier?.watchdog()
            self.scheduleWatchdog()
        }
    }

    /// Flushes what the client is owed (bounded), then ends the loop.
    private func finish() {
        guard phase != .finished else { return }
        phase = .finished
        watcher?.stop()
        closeListeners()
        guard let client, client.isOutputOpen else { return loop.stop() }
        client.onOutputClosed = { [weak loop] in loop?.stop() }
        client.closeOutputAfterFlush()
        loop.schedule(afterNanoseconds: 2_000_000_000) { [weak loop] in loop?.stop() }
    }
}

/// The core's end of the control channel: answers the host's pings, says when it serves, keeps
/// what the host reports (restarts, the watcher) for the status dump, and hears when to reload.
final class CoreControl: StatusNotifier {
    static let environmentKey = "PLUGBOARD_CORE_CONTROL_FD"

    private let channel: PipeChannel
    private(set) var hostStatus = HostStatus()
    /// The outer process is gone (its end of the channel closed): a core alone serves nobody.
    var onHostGone: () -> Void = {}
    /// Files changed (the outer process watches): the reason to log.
    var onReload: (String) -> Void = { _ in }
    /// The outer process was asked to stop: by which signal, and whether again (stop now).
    struct Stop {
        let signal: String
        let now: Bool
    }

    /// The outer process is shutting down: drain and exit, or stop now.
    var onStop: (Stop) -> Void = { _ in }
    /// The stop asked for, kept for a core that heard it before it could act on it.
    private(set) var stopRequest: Stop?

    /// The channel named by the environment, when this process is a core.
    static func fromEnvironment(loop: EventLoop) -> CoreControl? {
        guard let text = getenv(environmentKey).map({ String(cString: $0) }), let descriptor = Int32(text) else { return nil }
        unsetenv(environmentKey)
        // Not inherited by the core's own children.
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return CoreControl(descriptor: descriptor, loop: loop)
    }

    private init(descriptor: Int32, loop: EventLoop) {
        channel = PipeChannel(
            name: "host control", loop: loop, input: descriptor, output: dup(descriptor), maxMessageBytes: 1 << 20, maxQueuedBytes: 1 << 20)
    }

    func start() {
        channel.onMessage = { [weak self] line in self?.received(line) }
        channel.onInputClosed = { [weak self] _ in self?.onHostGone() }
        channel.start()
    }

    func reportUnclaimed(_ endpoints: [String]) {
        guard !endpoints.isEmpty else { return }
        _ = channel.send(JSONValue.object(["unclaimed": .array(endpoints.map { .string($0) })]).serialized())
    }

    func announceReady() {
        _ = channel.send(JSONValue.object(["ready": true]).serialized())
    }

    // The service manager hears the core's news through the host.
    func ready(status: String) { notify("ready", status) }
    func reloading(status: String) { notify("reloading", status) }
    func stopping() { notify("stopping", "stopping") }
    func watchdog() {}
    var watchdogInterval: UInt64? { nil }

    private func notify(_ event: String, _ status: String) {
        _ = channel.send(JSONValue.object(["notify": .string(event), "status": .string(status)]).serialized())
    }

    private func received(_ line: [UInt8]) {
        guard let message = try? JSONParser.parse(line) else { return }
        if let ping = message["ping"] {
            _ = channel.send(JSONValue.object(["pong": ping]).serialized())
        } else if let host = message["host"]?.objectValue {
            hostStatus = HostStatus(host: host)
        } else if let reason = message["reload"]?.stringValue {
            onReload(reason)
        } else if let signal = message["stop"]?.stringValue {
            let stop = Stop(signal: signal, now: message["now"]?.boolValue ?? false)
            stopRequest = stop
            onStop(stop)
        }
    }
}
