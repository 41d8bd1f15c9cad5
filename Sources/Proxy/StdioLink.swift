import Config
import Glibc
import IO
import Logging
import Processes

/// An upstream server as a child process speaking newline-delimited JSON-RPC on stdin/stdout;
/// its stderr goes to the log.
final class StdioLink: UpstreamLink {
    var onMessage: ([UInt8], Int64?) -> Void = { _, _ in }
    var onClosed: (String) -> Void = { _ in }
    /// A line over `limits.max_message_bytes` was discarded.
    /// A message over `limits.max_message_bytes` was dropped; its first bytes, to answer its request by.
    /// plugboard is ending the process: its stdout closing is expected.
    private var closing = false
    /// The process closed its stdout while running and was stopped for it.
    private var abandonedStdout = false
    var onOversizedMessage: (_ byteCount: Int, _ head: [UInt8]) -> Void = { _, _ in }
    private let command: String
    private let arguments: [String]
    private let environment: [String: String]
    private let workingDirectory: String
    private let limits: Limits
    private let loop: EventLoop
    private let log: Logger
    private var process: ChildProcess?
    private var channel: PipeChannel?
    private var stderr: PipeChannel?

    init(command: String, arguments: [String], environment: [String: String], workingDirectory: String, limits: Limits, loop: EventLoop, log: Logger) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.limits = limits
        self.loop = loop
        self.log = log
    }

    var processID: Int32? { process?.pid }
    var endpoint: String { ([command] + arguments).joined(separator: " ") }

    func open() {
        var processEnvironment = ProcessEnvironment.current()
        for (key, value) in environment { processEnvironment[key] = value }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                ChildProcess.Configuration(
                    executable: command, arguments: arguments, environment: processEnvironment,
                    workingDirectory: workingDirectory,
                    standardInput: .pipe, standardOutput: .pipe, standardError: .pipe))
        } catch {
            let reason = "could not start: \(error)"
            loop.runBeforeNextWait { [weak self] in self?.onClosed(reason) }
            return
        }
        let channel = PipeChannel(
            name: command, loop: loop,
            input: process.standardOutput?.rawValue, output: process.standardInput?.rawValue,
            maxMessageBytes: limits.maxMessageBytes, maxQueuedBytes: limits.maxQueuedBytes)
        let stderr = process.standardError.map {
            PipeChannel(name: "\(command) stderr", loop: loop, input: $0.rawValue, output: nil, maxMessageBytes: 64 * 1024, maxQueuedBytes: 0)
        }
        channel.onMessage = { [weak self] message in self?.onMessage(message, nil) }
        channel.onOversizedMessage = { [weak self, log, limits] size, head in
            log.error("sent a message of \(size) bytes, over limits.max_message_bytes (\(limits.maxMessageBytes)); it was discarded")
            self?.onOversizedMessage(size, head)
        }
        channel.onInputClosed = { [weak self] end in self?.stdoutClosed(end) }
        channel.onOutputFailed = { [log] code in log.warning("stdin closed: \(String(cString: strerror(code)))") }
        stderr?.onMessage = { [log] line in log.info(printableLine(line), ["stream": "stderr"]) }
        stderr?.onOversizedMessage = { [log] size, _ in log.warning("stderr line of \(size) bytes skipped (over 64 KiB)") }
        channel.start()
        stderr?.start()
        self.process = process
        self.channel = channel
        self.stderr = stderr
        let bound = LoopBound(self, loop: loop)
        process.onExit { [loop] status in
            loop.execute { bound.value.exited(status) }
        }
        log.info("started", ["pid": "\(process.pid)", "command": command])
    }

    /// A server whose stdout is closed can never answer again, whether or not it still runs:
    /// it is stopped (and then restarted), never left to time every call out.
    private func stdoutClosed(_ end: PipeChannel.InputEnd) {
        log.debug("stdout closed: \(end)")
        // A process that is exiting closes its stdout just before it is reaped: give it that moment.
        loop.schedule(afterNanoseconds: 500_000_000) { [weak self] in
            guard let self, !closing, let process, process.exitStatus == nil else { return }
            log.error("closed its stdout but is still running; stopping it so that it can be restarted", ["pid": "\(process.pid)"])
            abandonedStdout = true
            abort()
        }
    }

    private func exited(_ status: ExitStatus) {
        channel?.close()
        stderr?.close()
        onClosed(abandonedStdout ? "closed its stdout while running (then \(status))" : status.description)
    }

    func send(_ message: [UInt8]) -> PipeChannel.SendOutcome {
        channel?.send(message) ?? .closed
    }

    /// EOF on its stdin, then SIGTERM after 2 s, then SIGKILL after 5 s.
    func close() {
        closing = true
        guard let process, let channel else { return }
        channel.closeOutputAfterFlush()
        let pid = process.pid
        loop.escalate(process, termAfter: 2_000_000_000, killAfter: 5_000_000_000) { [log] signal in
            log.warning("still running after its stdin closed; sending \(signal)", ["pid": "\(pid)"])
        }
    }

    func abort() {
        guard let process else { return }
        loop.escalate(process, termAfter: 0, killAfter: 3_000_000_000)
    }
}
