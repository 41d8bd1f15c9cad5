import CSystemShims
import Glibc
import IO

/// A connected, non-blocking stream socket on the event loop: bytes in as they arrive, bytes out
/// through a queue written with `writev` whenever the peer can take them.
final class SocketStream {
    enum Closure: Equatable, CustomStringConvertible {
        case peerClosed
        case failed(Int32)
        case closedHere
        var description: String {
            switch self {
            case .peerClosed: "the peer closed the connection"
            case .failed(let code): String(cString: strerror(code))
            case .closedHere: "closed by plugboard"
            }
        }
    }

    let descriptor: Int32
    private let loop: EventLoop
    var onBytes: (UnsafeRawBufferPointer) -> Void = { _ in }
    var onClosed: (Closure) -> Void = { _ in }
    /// Called when everything queued has been written.
    var onDrained: () -> Void = {}

    private var queue: [[UInt8]] = []
    private var headOffset = 0
    private(set) var queuedBytes = 0
    private var reading = true
    private var wantsWrite = false
    private var closeWhenDrained = false
    private(set) var isClosed = false
    /// When the last byte was written or the queue was last empty; a stuck peer shows as an old value.
    private(set) var lastWriteProgress = EventLoop.now()
    private static let readChunk = 65536
    private var readBuffer = [UInt8](repeating: 0, count: SocketStream.readChunk)

    init(descriptor: Int32, loop: EventLoop) {
        self.descriptor = descriptor
        self.loop = loop
    }

    func start() {
        loop.register(descriptor, interest: .read) { [weak self] readiness in self?.handle(readiness) }
    }

    /// Stops (or resumes) reading: a peer that pipelines faster than it is answered waits in the kernel.
    func setReading(_ on: Bool) {
        guard !isClosed, on != reading else { return }
        reading = on
        updateInterest()
    }

    func write(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        if queue.isEmpty { lastWriteProgress = EventLoop.now() }
        queue.append(bytes)
        queuedBytes += bytes.count
        if !wantsWrite {
            // Written at the end of this loop turn, so several writes of one turn become one writev.
            wantsWrite = true
            loop.runBeforeNextWait { [weak self] in self?.flush() }
        }
    }

    /// Closes once the queue is written (or at once when it is empty).
    func closeAfterFlush() {
        guard !isClosed else { return }
        closeWhenDrained = true
        if queue.isEmpty && !wantsWrite { close(.closedHere) }
    }

    func close(_ reason: Closure = .closedHere) {
        guard !isClosed else { return }
        isClosed = true
        loop.unregister(descriptor)
        if reason != .closedHere || !queue.isEmpty {
            // An abortive close: the peer learns at once rather than waiting on unread data.
            var lingering = linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &lingering, socklen_t(MemoryLayout<linger>.size))
        }
        Glibc.close(descriptor)
        queue.removeAll()
        queuedBytes = 0
        onClosed(reason)
    }

    private func handle(_ readiness: EventLoop.Readiness) {
        if readiness.isWritable && !queue.isEmpty { flush() }
        if !isClosed && readiness.isReadable && (reading || readiness.rawValue & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0) {
            readAvailable()
        }
    }

    private func readAvailable() {
        var rounds = 0
        while !isClosed && rounds < 16 {
            rounds += 1
            let count = readBuffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                readBuffer.withUnsafeBytes { onBytes(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if count < Self.readChunk || !reading { return }
            } else if count == 0 {
                close(.peerClosed)
                return
            } else {
                switch errno {
                case EINTR: continue
                case EAGAIN: return
                default:
                    close(.failed(errno))
                    return
                }
            }
        }
    }

    private func flush() {
        wantsWrite = false
        while !isClosed && !queue.isEmpty {
            let written = writeVector()
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { break }
                close(.failed(errno))
                return
            }
            consume(written)
        }
        guard !isClosed else { return }
        if queue.isEmpty {
            lastWriteProgress = EventLoop.now()
            if closeWhenDrained {
                close(.closedHere)
                return
            }
            updateInterest()
            onDrained()
        } else {
            updateInterest()
        }
    }

    private func writeVector() -> Int {
        let batch = queue.prefix(64)
        var vectors: [iovec] = []
        vectors.reserveCapacity(batch.count)
        for (index, chunk) in batch.enumerated() {
            chunk.withUnsafeBytes { bytes in
                let skip = index == 0 ? headOffset : 0
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + skip), iov_len: bytes.count - skip))
            }
        }
        // The arrays outlive the call (held by `queue`), so their storage stays put.
        return withExtendedLifetime(batch) { writev(descriptor, vectors, Int32(vectors.count)) }
    }

    private func consume(_ written: Int) {
        guard written > 0 else { return }
        lastWriteProgress = EventLoop.now()
        queuedBytes -= written
        var remaining = written
        while remaining > 0, let head = queue.first {
            let left = head.count - headOffset
            if remaining >= left {
                remaining -= left
                queue.removeFirst()
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
    }

    private func updateInterest() {
        var interest: EventLoop.Interest = []
        if reading { interest.insert(.read) }
        if !queue.isEmpty { interest.insert(.write) }
        loop.modify(descriptor, interest: interest)
    }
}
