import Glibc
import IO
import Logging
import Proxy

/// Serves one MCP client on plugboard's own stdin and stdout.
///
/// Stdout carries nothing but protocol messages; everything else goes to the log on stderr.
public final class StdioFrontend {
    public enum Ending: Equatable, CustomStringConvertible {
        /// The client closed our stdin: it is done sending, and waits for answers and our exit.
        case inputClosed
        /// Our stdout is gone: nobody is left to answer.
        case outputFailed(errno: Int32)
        /// The client stopped reading stdout with `queuedBytes` waiting: its session was ended.
        case clientNotReading(queuedBytes: Int)
        public var description: String {
            switch self {
            case .inputClosed: "stdin closed"
            case .outputFailed(let code): "stdout failed: \(String(cString: strerror(code)))"
            case .clientNotReading(let queued): "the client stopped reading stdout (\(queued) bytes waiting)"
            }
        }
    }

    let core: ProxyCore
    /// `beginDrain()` was called.
    var isDraining = false
    private let loop: EventLoop
    private let log: Logger
    private let channel: PipeChannel
    private let maxQueuedBytes: Int
    private var session: ClientSession?
    private var outputClosedWaiters: [() -> Void] = []
    /// Called once when the client goes away, either way.
    public var onEnd: (Ending) -> Void = { _ in }

    public init(core: ProxyCore, loop: EventLoop, maxMessageBytes: Int, maxQueuedBytes: Int, log: Logger) {
        self.core = core
        self.loop = loop
        self.log = log.tagged("stdio")
        self.maxQueuedBytes = maxQueuedBytes
        self.channel = PipeChannel(
            name: "stdio", loop: loop, input: STDIN_FILENO, output: STDOUT_FILENO,
            maxMessageBytes: maxMessageBytes, maxQueuedBytes: maxQueuedBytes)
    }

    public func start() {
        let channel = self.channel
        // A client slow to read stops being read from; one that stops reading altogether is ended.
        channel.pauseInputAbove = maxQueuedBytes / 2
        let session = core.openSession(label: "stdio") { [weak self] message in
            guard case .peerNotReading(let queued) = channel.send(message) else { return }
            self?.endUnread(queued: queued)
        }
        self.session = session
        channel.onMessage = { [core] message in core.receive(message, from: session) }
        channel.onOversizedMessage = { [core] size, head in core.receiveOversized(byteCount: size, head: head, from: session) }
        channel.onInputClosed = { [weak self, log] end in
            if case .failed = end { log.warning("reading stdin failed: \(end)") }
            self?.onEnd(.inputClosed)
        }
        channel.onOutputFailed = { [weak self, core] code in
            core.closeSession(session, reason: "stdout closed")
            self?.onEnd(.outputFailed(errno: code))
        }
        channel.onOutputClosed = { [weak self] in
            guard let self else { return }
            for waiter in self.outputClosedWaiters.takeAll() { waiter() }
        }
        channel.start()
    }

    /// Ends the session of a client that reads nothing while `max_queued_bytes` wait for it:
    /// its calls are cancelled upstream and counted as abandoned, and stdout is closed, so the
    /// client sees the end instead of answers that silently never come.
    private func endUnread(queued: Int) {
        guard let session, session.phase != .closed else { return }
        log.error(
            "the client has not read \(queued) bytes of stdout (limits.max_queued_bytes); ending its session: \(session.pendingRequestCount) call(s) in flight are cancelled upstream and counted as abandoned")
        core.closeSession(session, reason: "it stopped reading stdout")
        channel.close()
        onEnd(.clientNotReading(queuedBytes: queued))
    }

    /// Flushes what is queued, then closes stdout so the client sees EOF.
    public func finish() {
        channel.closeOutputAfterFlush()
    }

    func whenOutputClosed(_ completion: @escaping () -> Void) {
        if channel.isOutputOpen { outputClosedWaiters.append(completion) } else { completion() }
    }

    func closeNow() { channel.close() }
}
