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
    /// A line over the limit, dropped: its length and its first bytes (`LineFramer.headByteCount`).
    public var onOversizedMessage: (Int, [UInt8]) -> Void = { _, _ in }
    public var onInputClosed: (InputEnd) -> Void = { _ in }
    public var onOutputFailed: (Int32) -> Void = { _ in }
    /// Messages dropped when the output closed (a failed write, `close()`) of which no byte
    /// reached the peer, in order. A relay can give them to another peer; one cut mid-way is
    /// lost with this one.
    public var onUndelivered: ([[UInt8]]) -> Void = { _ in }
    /// The output has been closed, whatever closed it: flushed after `closeOutputAfterFlush`,
    /// `close()`, or a failed write.
    public var onOutputClosed: () -> Void = {}
    /// Backpressure: while more than this many bytes wait for the peer, its input is not read
    /// (a client that does not read its answers sends no new requests); reading resumes below
    /// half of it. Nil: input is always read.
    public var pauseInputAbove: Int?
    private var inputPaused = false

    private let loop: EventLoop
    private var input: Int32?
    private var output: Int32?
    private var inputIsPollable = true
    private var outputRegistered = false
    private var framer: LineFramer
    private let maxQueuedBytes: Int
    private var queue: [[UInt8]] = []
    private var queueHeadOffset = 0
    /// Whether some of the queue's first entry was written before it was queued (the rest of a
    /// message, or only its newline).
    private var queueHeadIsRemainder = false
    private var closeOutputWhenFlushed = false
    /// Bytes the pipe would not take yet, waiting for EPOLLOUT.
    private var backlogBytes = 0
    /// Messages sent during this loop iteration, not yet written.
    private var batch: [[UInt8]] = []
    private var batchBytes = 0
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
            enlargePipeBuffer(input)
            inputIsPollable = loop.register(input, interest: .read) { [weak self] _ in self?.readAvailable() }
            if !inputIsPollable {
                // A regular file or /dev/null never blocks: drain it in loop tasks.
                scheduleFileRead()
            }
        }
        if let output {
            setNonBlocking(output)
            enlargePipeBuffer(output)
        }
    }

    /// Queues one message (without its newline) for the peer. Messages sent in one loop
    /// iteration are written together with one `writev` before the loop sleeps again.
    @discardableResult
    public func send(_ message: [UInt8]) -> SendOutcome {
        guard output != nil, !closeOutputWhenFlushed else { return .closed }
        guard backlogBytes <= maxQueuedBytes else { return .peerNotReading(queuedBytes: backlogBytes) }
        batch.append(message)
        batchBytes += message.count + 1
        if batch.count == 1 {
            loop.runBeforeNextWait { [weak self] in self?.flushBatch() }
        }
        applyBackpressure()
        return .queued
    }

    /// Stops or resumes reading input as `pauseInputAbove` says for the bytes now queued.
    private func applyBackpressure() {
        guard let limit = pauseInputAbove, let input, inputIsPollable else { return }
        if !inputPaused && queuedBytes > limit {
            inputPaused = true
            loop.unregister(input)
        } else if inputPaused && queuedBytes < limit / 2 {
            inputPaused = false
            inputIsPollable = loop.register(input, interest: .read) { [weak self] _ in self?.readAvailable() }
            // What arrived meanwhile is read now, not at the next byte.
            loop.runBeforeNextWait { [weak self] in self?.readAvailable() }
        }
    }

    /// Bytes handed to `send` that the peer has not read yet.
    public var queuedBytes: Int { backlogBytes + batchBytes }

    /// Closes the output once everything queued has been written (EOF for the peer).
    public func closeOutputAfterFlush() {
        guard output != nil else { return }
        closeOutputWhenFlushed = true
        if queue.isEmpty && batch.isEmpty { closeOutput() }
    }

    /// Closes both directions now, dropping anything still queued.
    public func close() {
        closeInput()
        closeOutput()
    }

    public func closeInput() {
        guard let input else { return }
        if inputIsPollable && !inputPaused { loop.unregister(input) }
        inputPaused = false
        closeRestoringFlags(input)
        self.input = nil
    }

    private func closeOutput() {
        guard let output else { return }
        if outputRegistered { loop.unregister(output) }
        outputRegistered = false
        closeRestoringFlags(output)
        self.output = nil
        let untouched = queue.dropFirst(queueHeadIsRemainder || queueHeadOffset > 0 ? 1 : 0).map { Array($0.dropLast()) } + batch
        queue.removeAll()
        backlogBytes = 0
        queueHeadOffset = 0
        queueHeadIsRemainder = false
        batch.removeAll()
        batchBytes = 0
        if !untouched.isEmpty { onUndelivered(untouched) }
        onOutputClosed()
    }

    // MARK: Reading

    private func readAvailable() {
        // Bounded per wake-up so one chatty peer cannot starve the others.
        for _ in 0..<16 {
            guard let input, !inputPaused else { return }
            let count = read(input, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                framer.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                deliverFrames()
                // epoll is level-triggered: a short read means the pipe is empty for now, and
                // skipping the read that would say EAGAIN saves a syscall per message.
                if count < readBuffer.count || !inputIsPollable { return }
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

    /// Delivers every complete line the peer has already written, however many, then closes
    /// the input; a line it was cut off in the middle of is dropped. For a peer that is gone,
    /// whose last messages are still in the pipe.
    public func drainInput() {
        while let input {
            let count = read(input, readBuffer.baseAddress, readBuffer.count)
            if count > 0 {
                framer.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
                deliverFrames()
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        closeInput()
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
            case .oversized(let byteCount, let head): onOversizedMessage(byteCount, head)
            }
        }
    }

    private func finishInput(_ end: InputEnd) {
        // A last message without its newline still counts.
        if let frame = framer.finish() {
            switch frame {
            case .message(let bytes): onMessage(bytes)
            case .oversized(let byteCount, let head): onOversizedMessage(byteCount, head)
            }
        }
        closeInput()
        onInputClosed(end)
    }

    // MARK: Writing

    /// Writes this iteration's messages, each followed by a newline, with as few `writev`
    /// calls as the pipe allows; what it does not take waits in the backlog for EPOLLOUT.
    private func flushBatch() {
        let messages = batch
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
        guard let output else { return }
        var next = 0
        if queue.isEmpty {
            while next < messages.count {
                let chunk = messages[next..<min(next + Self.messagesPerWrite, messages.count)]
                guard let written = writeVector(output, chunk) else {
                    onUndelivered(Array(messages[next...]))
                    return
                }
                let consumed = Self.fullyWrittenCount(chunk, bytes: written)
                next += consumed.messages
                if consumed.messages < chunk.count {
                    enqueue(messages[next], alreadyWritten: consumed.intoNext)
                    next += 1
                    break
                }
            }
        }
        while next < messages.count {
            enqueue(messages[next], alreadyWritten: 0)
            next += 1
        }
        if closeOutputWhenFlushed && queue.isEmpty { closeOutput() }
    }

    /// IOV_MAX is 1024 on Linux; each message takes two vectors (body and newline).
    private static let messagesPerWrite = 512

    /// How many messages of `chunk` `bytes` covers completely, and how far into the next it got.
    private static func fullyWrittenCount(_ chunk: ArraySlice<[UInt8]>, bytes: Int) -> (messages: Int, intoNext: Int) {
        var remaining = bytes
        var count = 0
        for message in chunk {
            let size = message.count + 1
            guard remaining >= size else { return (count, remaining) }
            remaining -= size
            count += 1
        }
        return (count, 0)
    }

    /// One `writev` of `messages` with their newlines: bytes written, 0 when the pipe is full,
    /// nil when the output failed (already reported).
    private func writeVector(_ descriptor: Int32, _ messages: ArraySlice<[UInt8]>) -> Int? {
        while true {
            let written = GatheredWrite.withVectors(messages, separator: Self.newlineByte) { vectors in
                writev(descriptor, vectors.baseAddress, Int32(vectors.count))
            }
            if written >= 0 { return written }
            switch errno {
            case EINTR: continue
            case EAGAIN: return 0
            default:
                outputFailed(errno)
                return nil
            }
        }
    }

    /// A newline that lives as long as the process, for `iovec`s; written once, then only read.
    nonisolated(unsafe) private static let newlineByte: UnsafeMutableRawPointer = {
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        byte.storeBytes(of: UInt8(ascii: "\n"), as: UInt8.self)
        return byte
    }()

    private func enqueue(_ message: [UInt8], alreadyWritten: Int) {
        if queue.isEmpty { queueHeadIsRemainder = alreadyWritten > 0 }
        var remainder: [UInt8]
        if alreadyWritten >= message.count {
            remainder = Self.newline
        } else {
            remainder = Array(message[alreadyWritten...])
            remainder.append(UInt8(ascii: "\n"))
        }
        backlogBytes += remainder.count
        queue.append(remainder)
        if !outputRegistered, let output {
            outputRegistered = loop.register(output, interest: .write) { [weak self] _ in self?.flushQueue() }
        }
    }

    private func flushQueue() {
        defer { applyBackpressure() }
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
            backlogBytes -= written
            if queueHeadOffset == head.count {
                queue.removeFirst()
                queueHeadOffset = 0
                queueHeadIsRemainder = false
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

    /// A 1 MiB pipe lets a peer write a large message in one go instead of waking us per 64 KiB.
    /// Best effort: not a pipe, or over `/proc/sys/fs/pipe-max-size`, leaves it as it was.
    private func enlargePipeBuffer(_ descriptor: Int32) {
        _ = fcntl(descriptor, Self.setPipeSize, Int32(1 << 20))
    }

    private static let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, not exported by Glibc's overlay

    /// File status flags as they were before `start`, restored before closing: stdin and
    /// stdout may be a terminal shared with the shell that started plugboard.
    private var originalFlags: [Int32: Int32] = [:]

    private func setNonBlocking(_ descriptor: Int32) {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0 else { return }
        // Only the standard streams are shared with another process; restoring a socket's
        // flags while its dup'ed other direction is still in use would make that one block.
        if descriptor <= STDERR_FILENO { originalFlags[descriptor] = flags }
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
    }

    private func closeRestoringFlags(_ descriptor: Int32) {
        if let flags = originalFlags.removeValue(forKey: descriptor) { _ = fcntl(descriptor, F_SETFL, flags) }
        Glibc.close(descriptor)
    }
}
