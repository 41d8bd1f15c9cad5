import Config
import Glibc
import IO
import JSON
import JSONRPC
import Logging
import Processes

/// What a pool needs of a worker: a `PluginWorker` process or, in tests, a fake.
/// Why a worker could not load its plugins, and which one failed when it holds several.
struct LoadFailure: Equatable {
    var reason: String
    var plugin: String? = nil

    var description: String { plugin.map { "plugin '\($0)': \(reason)" } ?? reason }
}

protocol PoolWorker: AnyObject {
    var state: PluginWorker.State { get }
    var inFlight: Int { get }
    var pid: Int32 { get }
    var residentBytes: Int? { get }
    /// Whether plugboard asked it to go (drain, terminate) before it exited.
    var wasRetired: Bool { get }
    var stateName: String { get }
    /// While it starts, the plugin it said it is loading (when it holds several).
    var loadingPlugin: String? { get }
    var onReady: (PoolWorker) -> Void { get set }
    /// A module could not be loaded; the worker exits on its own.
    var onFatal: (PoolWorker, LoadFailure) -> Void { get set }
    var onExit: (PoolWorker, ExitStatus) -> Void { get set }
    func start()
    /// Sends one job; the completion runs exactly once (answer, crash or exit).
    func call(_ job: WorkerJob, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void)
    /// Sends a heartbeat; false when the previous one was never answered (the worker is stuck).
    func heartbeat() -> Bool
    /// Finish the calls held, then exit; escalated to SIGTERM, then SIGKILL.
    func drain(within grace: UInt64)
    func kill()
    /// SIGTERM now, SIGKILL after `grace`; takes no new calls meanwhile.
    func terminate(grace: UInt64)
}

/// What a pool hands a worker.
enum WorkerJob {
    /// One plugin's turn: answered with its output.
    case call(plugin: String, phase: PluginPhase, input: JSONValue)
    /// Consecutive chain entries run in the worker in one round trip: answered with the whole
    /// `ran` message (see `FusedRun`). `name` is whom failures of the run as a whole are put to.
    case run(name: String, phase: PluginPhase, body: JSONObject)

    var phase: PluginPhase {
        switch self {
        case .call(_, let phase, _), .run(_, let phase, _): phase
        }
    }

    /// Whom a failure of the whole job (crash, timeout, an error of the host) is put to.
    var culprit: String {
        switch self {
        case .call(let plugin, _, _): plugin
        case .run(let name, _, _): name
        }
    }
}

/// One warm Node.js process running the plugin host with one plugin, or the plugins of a chain,
/// loaded. It talks to plugboard over descriptor 3 (a socketpair), never stdout, whose lines go
/// to the log. Loop-confined.
final class PluginWorker: PoolWorker {
    enum State: Equatable {
        case starting
        /// The phases each loaded plugin has hooks for.
        case ready(hooks: [String: Set<PluginPhase>])
        /// Told to finish what it holds and exit; takes no new calls.
        case draining
        case exited(String)
    }

    struct Call {
        let job: WorkerJob
        let completion: (Result<JSONValue?, PluginFailure>) -> Void
    }

    let plugins: [PluginDescriptor]
    private let name: String
    let process: ChildProcess
    private let loop: EventLoop
    private let log: Logger
    private let channel: PipeChannel
    private let outputs: [PipeChannel]
    private(set) var state = State.starting
    private var calls: [Int64: Call] = [:]
    private var nextID: Int64 = 1
    private var unansweredPing: Int64?
    private(set) var residentBytes: Int?
    private(set) var loadingPlugin: String?
    /// Whether plugboard asked it to go (drain, terminate) before it exited.
    private(set) var wasRetired = false

    var onReady: (PoolWorker) -> Void = { _ in }
    var onFatal: (PoolWorker, LoadFailure) -> Void = { _, _ in }
    var onExit: (PoolWorker, ExitStatus) -> Void = { _, _ in }

    var inFlight: Int { calls.count }
    var pid: Int32 { process.pid }

    init(plugins: [PluginDescriptor], hostScript: String, settings: PoolSettings, loop: EventLoop, log: Logger) throws {
        let name = plugins.map(\.name).joined(separator: "+")
        var descriptors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw SystemError(call: "socketpair", errno: errno, context: "plugin '\(name)' channel")
        }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                ChildProcess.Configuration(
                    executable: settings.plugins.node, arguments: Self.nodeArguments(settings.plugins, plugins: plugins, hostScript: hostScript),
                    environment: Self.environment(settings.plugins, plugins: plugins, maxMessageBytes: settings.maxMessageBytes),
                    workingDirectory: plugins[0].directory,
                    standardInput: .discard, standardOutput: .pipe, standardError: .pipe,
                    passedDescriptors: [FileDescriptor(rawValue: descriptors[1])]))
        } catch {
            close(descriptors[0])
            close(descriptors[1])
            throw error
        }
        close(descriptors[1])
        self.plugins = plugins
        self.name = name
        self.process = process
        self.loop = loop
        self.log = log.tagged("plugin:\(name)")
        self.channel = PipeChannel(
            name: "plugin \(name)", loop: loop, input: descriptors[0], output: dup(descriptors[0]),
            maxMessageBytes: settings.maxMessageBytes, maxQueuedBytes: settings.maxMessageBytes * 2)
        self.outputs = [process.standardOutput, process.standardError].compactMap { $0 }.map {
            PipeChannel(name: "plugin \(name) output", loop: loop, input: $0.rawValue, output: nil, maxMessageBytes: 64 * 1024, maxQueuedBytes: 0)
        }
    }

    func start() {
        channel.onMessage = { [weak self] line in self?.receive(line) }
        channel.onOversizedMessage = { [weak self] size, _ in
            self?.log.error("sent a \(size)-byte message, over limits.max_message_bytes; replacing the worker")
            self?.kill()
        }
        channel.onInputClosed = { [weak self] _ in self?.log.debug("channel closed", ["pid": "\(self?.pid ?? 0)"]) }
        channel.start()
        for (index, output) in outputs.enumerated() {
            let stream = index == 0 ? "stdout" : "stderr"
            output.onMessage = { [log, pid] line in
                log.info(printableLine(line), ["pid": "\(pid)", "stream": stream])
            }
            output.start()
        }
        let bound = LoopBound(self, loop: loop)
        process.onExit { [loop] status in
            loop.execute { bound.value.exited(status) }
        }
    }

    // MARK: Calls

    /// Sends one job; the completion runs exactly once (answer, crash or `failAll`).
    func call(_ job: WorkerJob, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        let id = nextID
        nextID += 1
        calls[id] = Call(job: job, completion: completion)
        var message: JSONObject
        switch job {
        case .call(let plugin, let phase, let input):
            message = ["type": "call", "id": .number(JSONNumber(id)), "phase": .string(phase.rawValue), "input": input]
            if plugins.count > 1 { message["plugin"] = .string(plugin) }
        case .run(_, _, let body):
            message = body
            message["type"] = "run"
            message["id"] = .number(JSONNumber(id))
        }
        if channel.send(JSONValue.object(message).serialized()) == .closed {
            calls[id] = nil
            completion(.failure(PluginFailure(plugin: job.culprit, phase: job.phase, kind: .crashed(status: "had closed its channel"))))
        }
    }

    /// Forgets a call that timed out; a late answer is dropped.
    func abandon(callsMatching ids: Set<Int64>) {
        for id in ids { calls[id] = nil }
    }

    /// Sends a heartbeat; returns false when the previous one was never answered (the worker is stuck).
    func heartbeat() -> Bool {
        if unansweredPing != nil { return false }
        let id = nextID
        nextID += 1
        unansweredPing = id
        channel.send(JSONValue.object(["type": "ping", "id": .number(JSONNumber(id))]).serialized())
        return true
    }

    /// Asks the worker to finish its calls and exit; escalates to SIGTERM, then SIGKILL.
    func drain(within grace: UInt64) {
        switch state {
        case .draining, .exited: return
        case .starting, .ready: state = .draining
        }
        channel.send(JSONValue.object(["type": "drain"]).serialized())
        loop.escalate(process, termAfter: grace, killAfter: grace + 2_000_000_000) { [log, pid] signal in
            log.warning("worker still running after drain; sending \(signal)", ["pid": "\(pid)"])
        }
    }

    func kill() {
        process.signal(SIGKILL)
    }

    /// SIGTERM now, SIGKILL after `grace` if it is still there; takes no new calls meanwhile.
    func terminate(grace: UInt64) {
        if case .exited = state { return }
        state = .draining
        loop.escalate(process, termAfter: 0, killAfter: grace)
    }

    var stateName: String {
        switch state {
        case .starting: "starting"
        case .ready: "ready"
        case .draining: "draining"
        case .exited: "exited"
        }
    }

    /// Only what the config allows: no secrets of plugboard's own environment leak by default.
    static func environment(_ settings: PluginSettings, plugins: [PluginDescriptor], maxMessageBytes: Int = 16 << 20) -> [String: String] {
        let inherited = ChildProcess.inheritedEnvironment()
        var environment: [String: String] = [:]
        for name in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] + settings.passEnvironment {
            if let value = inherited[name] { environment[name] = value }
        }
        for (name, value) in settings.environment { environment[name] = value }
        if let plugin = plugins.first, plugins.count == 1 {
            environment["PLUGBOARD_PLUGIN"] = plugin.path
            environment["PLUGBOARD_PLUGIN_NAME"] = plugin.name
        } else {
            let list = plugins.map { plugin -> JSONValue in ["name": .string(plugin.name), "path": .string(plugin.path)] }
            environment["PLUGBOARD_PLUGINS"] = JSONValue.array(list).serializedString
        }
        environment["PLUGBOARD_WORKER_CONCURRENCY"] = String(settings.concurrency)
        environment["PLUGBOARD_MAX_MESSAGE_BYTES"] = String(maxMessageBytes)
        return environment
    }

    static func nodeArguments(_ settings: PluginSettings, plugins: [PluginDescriptor], hostScript: String) -> [String] {
        var arguments = ["--max-old-space-size=\(settings.maxMemoryMegabytes)"]
        if let permissions = settings.permissions {
            let hostDirectory = String(hostScript[..<(hostScript.lastIndex(of: "/") ?? hostScript.endIndex)])
            arguments.append("--experimental-permission")
            for path in Set(plugins.map(\.directory)).sorted() + [hostDirectory] + permissions.fileSystemRead {
                arguments.append("--allow-fs-read=\(path)")
            }
            for path in permissions.fileSystemWrite { arguments.append("--allow-fs-write=\(path)") }
            if permissions.childProcess { arguments.append("--allow-child-process") }
        }
        return arguments + [hostScript]
    }

    // MARK: Incoming

    private func receive(_ line: [UInt8]) {
        guard let message = try? JSONParser.parse(line), let type = message["type"]?.stringValue else {
            log.error("sent an unreadable message on its channel; replacing the worker: \(String(decoding: line.prefix(200), as: UTF8.self))")
            kill()
            return
        }
        switch type {
        case "ready":
            let hooks = Self.hooks(in: message, plugins: plugins)
            if state == .starting {
                state = .ready(hooks: hooks)
                loadingPlugin = nil
                log.debug("worker ready", ["pid": "\(pid)"])
                onReady(self)
            }
        case "result", "ran", "error":
            guard let id = message["id"]?.int64Value, let call = calls.removeValue(forKey: id) else { return }
            switch type {
            case "result": call.completion(.success(message["output"]))
            case "ran": call.completion(.success(message))
            default:
                let text = message["error"]?["message"]?.stringValue ?? "unknown error"
                if let stack = message["error"]?["stack"]?.stringValue { log.debug("threw: \(stack)") }
                call.completion(.failure(PluginFailure(plugin: call.job.culprit, phase: call.job.phase, kind: .threw(message: text))))
            }
        case "loading":
            if state == .starting { loadingPlugin = message["plugin"]?.stringValue }
        case "pong":
            unansweredPing = nil
            residentBytes = message["memory"]?["rss"]?.int64Value.map(Int.init)
        case "fatal":
            let reason = message["error"]?["message"]?.stringValue ?? "unknown error"
            let culprit = message["plugin"]?.stringValue
            onFatal(self, LoadFailure(reason: reason, plugin: plugins.count > 1 ? culprit : nil))
        default:
            log.warning("sent an unknown message type \"\(type)\"")
        }
    }

    private func exited(_ status: ExitStatus) {
        wasRetired = state == .draining
        state = .exited(status.description)
        channel.close()
        for output in outputs { output.close() }
        failAll(.crashed(status: status.description))
        onExit(self, status)
    }

    /// Fails every call in the worker (it exited or was replaced).
    func failAll(_ kind: PluginFailure.Kind) {
        let outstanding = calls
        calls = [:]
        for (_, call) in outstanding.sorted(by: { $0.key < $1.key }) {
            call.completion(.failure(PluginFailure(plugin: call.job.culprit, phase: call.job.phase, kind: kind)))
        }
    }

    /// The phases each plugin has hooks for, from a `ready` message; a host older than
    /// `plugins` in it loads one plugin, and `hooks` are its.
    static func hooks(in ready: JSONValue, plugins: [PluginDescriptor]) -> [String: Set<PluginPhase>] {
        let phases = { (list: JSONValue?) in Set((list?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(PluginPhase.init(rawValue:)) }) }
        if let table = ready["plugins"]?.objectValue {
            return Dictionary(uniqueKeysWithValues: table.map { ($0.key, phases($0.value)) })
        }
        return Dictionary(uniqueKeysWithValues: plugins.map { ($0.name, phases(ready["hooks"])) })
    }
}

/// A plugin file and the name chains use for it.
public struct PluginDescriptor: Sendable, Equatable {
    public let name: String
    public let path: String
    public var directory: String { String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) }

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}
