import Glibc
import JSONRPC

/// Newline-delimited JSON-RPC over a pair of pipe descriptors, served by an `EventLoop`.
///
/// Reads are framed losslessly; writes go straight to the pipe when it has room and queue
/// (bounded by `maxQueuedBytes`) when it does not, so a peer that stops reading never blocks
/// the loop. Loop-confined: create and use it on its loop only.
public final class PipeChannel {
    public enum SendOutcome: Equatable {
        case written
        case queued
        /// The peer has not drained `maxQueuedBytes`; the message was not sent.
        case peerNotReading(queuedBytes: Int)
        case closed
    }

    public enum InputEnd: Equatable, CustomStringConvertible {
        case endOfFile
        case failed(errno: Int32)
        public var description: String {
            switch self {
            case .endOfFile: "end of file"
            case .failed(let code): "read failed: \(String(cString: strerror(code)))"
            }
        }
    }

    public let name: String
    public var onMessage: ([UInt8]) -> Void = { _ in }
    public var onOversizedMessage: (Int) -> Void = { _ in }
    public var onInputClosed: (InputEnd) -> Void = { _ in }
    public var onOutputFailed: (Int32) -> Void = { _ in }

    private let loop: EventLoop
    private var input: Int32?
    private var output: Int32?
    private var inputIsPollable = true
    private var outputRegistered = false
    private var framer: LineFramer
    private let maxQueuedBytes: Int
    private var queue: [[UInt8]] = []
    private var queueHeadOffset = 0
    private var closeOutputWhenFlushed = false
    public private(set) var queuedBytes = 0
    private static let readChunkSize = 64 * 1024
    private static let newline: [UInt8] = [UInt8(ascii: "\n")]
    private var readBuffer: UnsafeMutableRawBufferPointer

    public init(
        name: String, loop: EventLoop, input: Int32?, output: Int32?,
        maxMessageBytes: Int, maxQueuedBytes: Int
    ) {
        self.name = name
        self.loop = loop
        self.input = input
        self.output = output
        self.framer = LineFramer(maxMessageBytes: maxMessageBytes)
        self.maxQueuedBytes = maxQueuedBytes
        self.readBuffer = .allocate(byteCount: Self.readChunkSize, alignment: 8)
    }

    deinit {
        readBuffer.deallocate()
    }

    public var isOutputOpen: Bool { output != nil }

    /// Starts reading; messages arrive through `onMessage` on the loop thread.
    public func start() {
        loop.assertInLoop()
        if let input {
            setNonBlocking(input)
            inputIsPollable = loop.register(input, interest: .read) { [weak self] _ in self?.readAvailable() }
            if !inputIsPollable {
                // A regular file or /dev/null never blocks: drain it in loop tasks.
                scheduleFileRead()
            }
        }
        if let output { setNonBlocking(output) }
    }

    /// Queues one message (without its newline) for the peer.
    @discardableResult
    public func send(_ message: [UInt8]) -> SendOutcome {
        guard let output, !closeOutputWhenFlushed else { return .closed }
        if queue.isEmpty {
            let written = writeVector(output, message)
            if written < 0 { return .closed }
            let total = message.count + 1
            if written == total { return .written }
            enqueue(message, alreadyWritten: written)
            return .queued
        }
        guard queuedBytes <= maxQueuedBytes else { return .peerNotReading(queuedBytes: queuedBytes) }
        enqueue(message, alreadyWritten: 0)
        return .queued
    }

    /// Closes the output once everything queued has been written (EOF for the peer).
    public func closeOutputAfterFlush() {
        guard output != nil else { return }
        closeOutputWhenFlushed = true
        if queue.isEmpty { closeOutput() }
    }

    /// Closes both directions now, dropping anything still queued.
    public func close() {
        closeInput()
        closeOutput()
    }

    public func closeInput() {
        guard let input else { return }
        if inputIsPollable { loop.unregister(input) }
        Glibc.close(input)
        self.input = nil
    }

    private func closeOutput() {
        guard let output else { return }
        if outputRegistered { loop.unregister(output) }
        outputRegistered = false
        Glibc.close(output)
        self.output = nil
        queue.removeAll()
        queuedBytes = 0
        queueHeadOffset = 0
    }

    // MARK: Reading

    private func readAvailable() {
        // Bounded per wake-up so one chatty peer cannot starve the others.
        for _ in 0..<16 {
            guard let input else { return }
            let count = read(input, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                framer.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                deliverFrames()
                continue
            }
            if count == 0 {
                finishInput(.endOfFile)
                return
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: return
            default:
                finishInput(.failed(errno: errno))
                return
            }
        }
    }

    private func scheduleFileRead() {
        let bound = LoopBound(self, loop: loop)
        loop.execute {
            let channel = bound.value
            channel.readAvailable()
            if channel.input != nil { channel.scheduleFileRead() }
        }
    }

    private func deliverFrames() {
        while input != nil, let frame = framer.next() {
            switch frame {
            case .message(let bytes): onMessage(bytes)
            case .oversized(let byteCount): onOversizedMessage(byteCount)
            }
        }
    }

    private func finishInput(_ end: InputEnd) {
        // A last message without its newline still counts.
        if let frame = framer.finish() {
            switch frame {
            case .message(let bytes): onMessage(bytes)
            case .oversized(let byteCount): onOversizedMessage(byteCount)
            }
        }
        closeInput()
        onInputClosed(end)
    }

    // MARK: Writing

    /// Writes `message` and a newline with one `writev`; returns bytes written, or -1 when the
    /// output is gone (the failure has been reported).
    private func writeVector(_ descriptor: Int32, _ message: [UInt8]) -> Int {
        message.withUnsafeBytes { body in
            Self.newline.withUnsafeBytes { newline in
                var vectors = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: newline.baseAddress), iov_len: 1),
                ]
                while true {
                    let written = writev(descriptor, &vectors, 2)
                    if written >= 0 { return written }
                    switch errno {
                    case EINTR: continue
                    case EAGAIN: return 0
                    default:
                        outputFailed(errno)
                        return -1
                    }
                }
            }
        }
    }

    private func enqueue(_ message: [UInt8], alreadyWritten: Int) {
        var remainder: [UInt8]
        if alreadyWritten >= message.count {
            remainder = Self.newline
        } else {
            remainder = Array(message[alreadyWritten...])
            remainder.append(UInt8(ascii: "\n"))
        }
        queuedBytes += remainder.count
        queue.append(remainder)
        if !outputRegistered, let output {
            outputRegistered = loop.register(output, interest: .write) { [weak self] _ in self?.flushQueue() }
        }
    }

    private func flushQueue() {
        while let output, let head = queue.first {
            let written = head.withUnsafeBytes { bytes in
                Glibc.write(output, bytes.baseAddress! + queueHeadOffset, bytes.count - queueHeadOffset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return }
                outputFailed(errno)
                return
            }
            queueHeadOffset += written
            queuedBytes -= written
            if queueHeadOffset == head.count {
                queue.removeFirst()
                queueHeadOffset = 0
            }
        }
        if let output, outputRegistered {
            loop.unregister(output)
            outputRegistered = false
        }
        if closeOutputWhenFlushed { closeOutput() }
    }

    private func outputFailed(_ code: Int32) {
        closeOutput()
        onOutputFailed(code)
    }

    private func setNonBlocking(_ descriptor: Int32) {
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
    }
}
