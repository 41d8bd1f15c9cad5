import Config
import Glibc
import IO
import JSON
import JSONRPC
import Logging
import Processes

/// What a pool needs of a worker: a `PluginWorker` process or, in tests, a fake.
protocol PoolWorker: AnyObject {
    var state: PluginWorker.State { get }
    var inFlight: Int { get }
    var pid: Int32 { get }
    var residentBytes: Int? { get }
    /// Whether plugboard asked it to go (drain, terminate) before it exited.
    var wasRetired: Bool { get }
    var stateName: String { get }
    var onReady: (PoolWorker) -> Void { get set }
    /// The module could not be loaded; the worker exits on its own.
    var onFatal: (PoolWorker, String) -> Void { get set }
    var onExit: (PoolWorker, ExitStatus) -> Void { get set }
    func start()
    /// Sends one call; the completion runs exactly once (answer, crash or exit).
    func call(phase: PluginPhase, input: JSONValue, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void)
    /// Sends a heartbeat; false when the previous one was never answered (the worker is stuck).
    func heartbeat() -> Bool
    /// Finish the calls held, then exit; escalated to SIGTERM, then SIGKILL.
    func drain(within grace: UInt64)
    func kill()
    /// SIGTERM now, SIGKILL after `grace`; takes no new calls meanwhile.
    func terminate(grace: UInt64)
}

/// One warm Node.js process running the plugin host with one plugin loaded. It talks to
/// plugboard over descriptor 3 (a socketpair), never stdout, whose lines go to the log.
/// Loop-confined.
final class PluginWorker: PoolWorker {
    enum State: Equatable {
        case starting
        case ready(hooks: Set<PluginPhase>)
        /// Told to finish what it holds and exit; takes no new calls.
        case draining
        case exited(String)
    }

    struct Call {
        let phase: PluginPhase
        let completion: (Result<JSONValue?, PluginFailure>) -> Void
    }

    let plugin: PluginDescriptor
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
    /// Whether plugboard asked it to go (drain, terminate) before it exited.
    private(set) var wasRetired = false

    var onReady: (PoolWorker) -> Void = { _ in }
    var onFatal: (PoolWorker, String) -> Void = { _, _ in }
    var onExit: (PoolWorker, ExitStatus) -> Void = { _, _ in }

    var inFlight: Int { calls.count }
    var pid: Int32 { process.pid }

    init(plugin: PluginDescriptor, hostScript: String, settings: PoolSettings, loop: EventLoop, log: Logger) throws {
        var descriptors: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0 else {
            throw SystemError(call: "socketpair", errno: errno, context: "plugin '\(plugin.name)' channel")
        }
        let plugins = settings.plugins
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                ChildProcess.Configuration(
                    executable: plugins.node, arguments: Self.nodeArguments(plugins, plugin: plugin, hostScript: hostScript),
                    environment: Self.environment(plugins, plugin: plugin, maxMessageBytes: settings.maxMessageBytes), workingDirectory: plugin.directory,
                    standardInput: .discard, standardOutput: .pipe, standardError: .pipe,
                    passedDescriptors: [FileDescriptor(rawValue: descriptors[1])]))
        } catch {
            close(descriptors[0])
            close(descriptors[1])
            throw error
        }
        close(descriptors[1])
        self.plugin = plugin
        self.process = process
        self.loop = loop
        self.log = log.tagged("plugin:\(plugin.name)")
        self.channel = PipeChannel(
            name: "plugin \(plugin.name)", loop: loop, input: descriptors[0], output: dup(descriptors[0]),
            maxMessageBytes: settings.maxMessageBytes, maxQueuedBytes: settings.maxMessageBytes * 2)
        self.outputs = [process.standardOutput, process.standardError].compactMap { $0 }.map {
            PipeChannel(name: "plugin \(plugin.name) output", loop: loop, input: $0.rawValue, output: nil, maxMessageBytes: 64 * 1024, maxQueuedBytes: 0)
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

    /// Sends one call; the completion runs exactly once (answer, crash or `failAll`).
    func call(phase: PluginPhase, input: JSONValue, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        let id = nextID
        nextID += 1
        calls[id] = Call(phase: phase, completion: completion)
        let message: JSONValue = ["type": "call", "id": .number(JSONNumber(id)), "phase": .string(phase.rawValue), "input": input]
        if channel.send(message.serialized()) == .closed {
            calls[id] = nil
            completion(.failure(PluginFailure(plugin: plugin.name, phase: phase, kind: .crashed(status: "had closed its channel"))))
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
    static func environment(_ settings: PluginSettings, plugin: PluginDescriptor, maxMessageBytes: Int = 16 << 20) -> [String: String] {
        let inherited = ChildProcess.inheritedEnvironment()
        var environment: [String: String] = [:]
        for name in ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"] + settings.passEnvironment {
            if let value = inherited[name] { environment[name] = value }
        }
        for (name, value) in settings.environment { environment[name] = value }
        environment["PLUGBOARD_PLUGIN"] = plugin.path
        environment["PLUGBOARD_PLUGIN_NAME"] = plugin.name
        environment["PLUGBOARD_WORKER_CONCURRENCY"] = String(settings.concurrency)
        environment["PLUGBOARD_MAX_MESSAGE_BYTES"] = String(maxMessageBytes)
        return environment
    }

    static func nodeArguments(_ settings: PluginSettings, plugin: PluginDescriptor, hostScript: String) -> [String] {
        var arguments = ["--max-old-space-size=\(settings.maxMemoryMegabytes)"]
        if let permissions = settings.permissions {
            let hostDirectory = String(hostScript[..<(hostScript.lastIndex(of: "/") ?? hostScript.endIndex)])
            arguments.append("--experimental-permission")
            for path in [plugin.directory, hostDirectory] + permissions.fileSystemRead {
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
            let hooks = Set((message["hooks"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(PluginPhase.init(rawValue:)) })
            if state == .starting {
                state = .ready(hooks: hooks)
                log.debug("worker ready", ["pid": "\(pid)", "hooks": hooks.map(\.rawValue).sorted().joined(separator: ",")])
                onReady(self)
            }
        case "result", "error":
            guard let id = message["id"]?.int64Value, let call = calls.removeValue(forKey: id) else { return }
            if type == "result" {
                call.completion(.success(message["output"]))
            } else {
                let text = message["error"]?["message"]?.stringValue ?? "unknown error"
                if let stack = message["error"]?["stack"]?.stringValue { log.debug("threw: \(stack)") }
                call.completion(.failure(PluginFailure(plugin: plugin.name, phase: call.phase, kind: .threw(message: text))))
            }
        case "pong":
            unansweredPing = nil
            residentBytes = message["memory"]?["rss"]?.int64Value.map(Int.init)
        case "fatal":
            let reason = message["error"]?["message"]?.stringValue ?? "unknown error"
            onFatal(self, reason)
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
            call.completion(.failure(PluginFailure(plugin: plugin.name, phase: call.phase, kind: kind)))
        }
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
