import Config
import Glibc
import IO
import JSON
import Logging
import Processes

/// Runs a script of the original design once per call: `node SCRIPT`, the input as one JSON
/// object on stdin, one JSON line expected on stdout. No pool; killed on timeout.
/// Loop-confined.
final class ExecPluginRunner {
    let plugin: PluginDescriptor
    private let settings: PoolSettings
    private let loop: EventLoop
    private let log: Logger

    init(plugin: PluginDescriptor, settings: PoolSettings, loop: EventLoop, log: Logger) {
        self.plugin = plugin
        self.settings = settings
        self.loop = loop
        self.log = log.tagged("plugin:\(plugin.name)")
    }

    var defaultTimeout: TimeSpan { settings.plugins.timeout }

    func call(
        phase: PluginPhase, input: JSONValue, timeout: TimeSpan, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void
    ) {
        func fail(_ kind: PluginFailure.Kind) -> PluginFailure { PluginFailure(plugin: plugin.name, phase: phase, kind: kind) }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                ChildProcess.Configuration(
                    executable: settings.plugins.node, arguments: [plugin.path],
                    environment: PluginWorker.environment(settings.plugins, plugins: [plugin]), workingDirectory: plugin.directory,
                    standardInput: .pipe, standardOutput: .pipe, standardError: .pipe))
        } catch {
            completion(.failure(fail(.unavailable(reason: "\(error)"))))
            return
        }
        let stdout = PipeChannel(
            name: "exec \(plugin.name)", loop: loop, input: process.standardOutput?.rawValue, output: process.standardInput?.rawValue,
            maxMessageBytes: settings.maxMessageBytes, maxQueuedBytes: settings.maxMessageBytes * 2)
        let stderr = PipeChannel(
            name: "exec \(plugin.name) stderr", loop: loop, input: process.standardError?.rawValue, output: nil,
            maxMessageBytes: 64 * 1024, maxQueuedBytes: 0)
        let call = ExecCall(plugin: plugin.name, phase: phase, completion: completion)
        stdout.onMessage = { [log] line in
            if call.firstLine == nil { call.firstLine = line } else { log.info(printableLine(line), ["stream": "stdout"]) }
        }
        stdout.onOversizedMessage = { size, _ in call.finish(.failure(fail(.invalidOutput(reason: "a \(size)-byte line, over the message limit")))) }
        stdout.onInputClosed = { _ in
            call.stdoutClosed = true
            call.settleIfDone()
        }
        stderr.onMessage = { [log, pid = process.pid] line in
            log.info(printableLine(line), ["pid": "\(pid)", "stream": "stderr"])
        }
        stdout.start()
        stderr.start()
        stdout.send(input.serialized())
        stdout.closeOutputAfterFlush()

        let timer = loop.schedule(afterNanoseconds: timeout.nanoseconds) { [log] in
            guard process.exitStatus == nil else { return }
            log.warning("exec call timed out after \(timeout); killing it", ["pid": "\(process.pid)"])
            process.signal(SIGKILL)
            call.finish(.failure(fail(.timedOut(seconds: timeout.seconds))))
        }
        call.cleanUp = { [loop] in
            loop.cancelTimer(timer)
            stdout.close()
            stderr.close()
        }
        let bound = LoopBound(call, loop: loop)
        process.onExit { [loop] status in
            loop.execute {
                bound.value.exitStatus = status
                bound.value.settleIfDone()
            }
        }
    }
}

/// One exec-mode call: it settles once the script has exited and its stdout is at EOF, so
/// nothing it printed is lost to the order in which the two are noticed.
private final class ExecCall {
    let plugin: String
    let phase: PluginPhase
    private var completion: ((Result<JSONValue?, PluginFailure>) -> Void)?
    var firstLine: [UInt8]?
    var stdoutClosed = false
    var exitStatus: ExitStatus?
    var cleanUp: () -> Void = {}

    init(plugin: String, phase: PluginPhase, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        self.plugin = plugin
        self.phase = phase
        self.completion = completion
    }

    func finish(_ result: Result<JSONValue?, PluginFailure>) {
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }

    func settleIfDone() {
        guard stdoutClosed, let status = exitStatus else { return }
        cleanUp()
        func fail(_ kind: PluginFailure.Kind) -> PluginFailure { PluginFailure(plugin: plugin, phase: phase, kind: kind) }
        guard status == .exited(0) else { return finish(.failure(fail(.crashed(status: status.description)))) }
        guard let line = firstLine else {
            return finish(.failure(fail(.invalidOutput(reason: "the script printed nothing on stdout"))))
        }
        do {
            finish(.success(try JSONParser.parse(line)))
        } catch {
            finish(.failure(fail(.invalidOutput(reason: "its stdout is not JSON (\(error))"))))
        }
    }
}
