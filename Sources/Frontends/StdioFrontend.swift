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
        public var description: String {
            switch self {
            case .inputClosed: "stdin closed"
            case .outputFailed(let code): "stdout failed: \(String(cString: strerror(code)))"
            }
        }
    }

    private let core: ProxyCore
    private let loop: EventLoop
    private let log: Logger
    private let channel: PipeChannel
    private var session: ClientSession?
    /// Called once when the client goes away, either way.
    public var onEnd: (Ending) -> Void = { _ in }

    public init(core: ProxyCore, loop: EventLoop, maxMessageBytes: Int, maxQueuedBytes: Int, log: Logger) {
        self.core = core
        self.loop = loop
        self.log = log.tagged("stdio")
        self.channel = PipeChannel(
            name: "stdio", loop: loop, input: STDIN_FILENO, output: STDOUT_FILENO,
            maxMessageBytes: maxMessageBytes, maxQueuedBytes: maxQueuedBytes)
    }

    public func start() {
        let channel = self.channel
        let log = self.log
        let session = core.openSession(label: "stdio") { message in
            switch channel.send(message) {
            case .written, .queued, .closed: break
            case .peerNotReading(let queued):
                log.error("the client is not reading stdout (\(queued) bytes queued); a message of \(message.count) bytes was not delivered")
            }
        }
        self.session = session
        channel.onMessage = { [core] message in core.receive(message, from: session) }
        channel.onOversizedMessage = { [core] size, head in core.receiveOversized(byteCount: size, head: head, from: session) }
        channel.onInputClosed = { [weak self] end in
            if case .failed = end { log.warning("reading stdin failed: \(end)") }
            self?.onEnd(.inputClosed)
        }
        channel.onOutputFailed = { [weak self, core] code in
            core.closeSession(session, reason: "stdout closed")
            self?.onEnd(.outputFailed(errno: code))
        }
        channel.start()
    }

    /// Bytes written by the proxy that the client has not read yet.
    public var pendingOutputBytes: Int { channel.queuedBytes }

    /// Flushes what is queued, then closes stdout so the client sees EOF.
    public func finish() {
        channel.closeOutputAfterFlush()
    }
}
