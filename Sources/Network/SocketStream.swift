import CSystemShims
import Glibc
import IO
import TLS

/// A connected, non-blocking stream socket on the event loop: bytes in as they arrive, bytes out
/// through a queue written with `writev` whenever the peer can take them. With a TLS session,
/// the handshake runs first on the same loop and the queue waits for it; OpenSSL's want-read and
/// want-write become the socket's interest, so nothing ever blocks.
final class SocketStream {
    enum Closure: Equatable, CustomStringConvertible {
        case peerClosed
        case failed(Int32)
        case closedHere
        case tlsFailed(TLSFailure)
        var description: String {
            switch self {
            case .peerClosed: "the peer closed the connection"
            case .failed(let code): String(cString: strerror(code))
            case .closedHere: "closed by plugboard"
            case .tlsFailed(let failure): failure.description
            }
        }
    }

    let descriptor: Int32
    private let loop: EventLoop
    var onBytes: (UnsafeRawBufferPointer) -> Void = { _ in }
    var onClosed: (Closure) -> Void = { _ in }
    /// Called when everything queued has been written.
    var onDrained: () -> Void = {}
    /// Called once the TLS handshake is complete (never for a plain socket).
    var onSecured: () -> Void = {}

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
    private let tls: TLSSession?
    private var tlsPhase = TLSPhase.none

    /// Where a TLS session stands, and what OpenSSL waits for when an operation could not finish.
    private enum TLSPhase: Equatable {
        case none
        case handshaking(waitingFor: EventLoop.Interest)
        case open(readWaitsForWritable: Bool, writeWaitsForReadable: Bool)
    }

    /// The largest TLS record's payload: several small queued writes are sent as one record.
    private static let recordPayload = 16384

    init(descriptor: Int32, loop: EventLoop, tls: TLSSession? = nil) {
        self.descriptor = descriptor
        self.loop = loop
        self.tls = tls
    }

    var isSecured: Bool { if case .open = tlsPhase { true } else { false } }
    var isHandshaking: Bool { if case .handshaking = tlsPhase { true } else { false } }

    func start() {
        loop.register(descriptor, interest: .read) { [weak self] readiness in self?.handle(readiness) }
        if tls != nil {
            tlsPhase = .handshaking(waitingFor: .read)
            continueHandshake()
        }
    }

    /// Stops (or resumes) reading: a peer that pipelines faster than it is answered waits in the kernel.
    func setReading(_ on: Bool) {
        guard !isClosed, on != reading else { return }
        reading = on
        updateInterest()
        // Bytes OpenSSL already decrypted never show as readiness.
        if on, isSecured, tls?.hasBufferedBytes == true { loop.runBeforeNextWait { [weak self] in self?.readAvailable() } }
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
        if reason == .closedHere && queue.isEmpty && isSecured { tls?.shutdown() }
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
        switch tlsPhase {
        case .handshaking:
            return continueHandshake()
        case .open(let readWaitsForWritable, let writeWaitsForReadable):
            if readiness.isWritable && readWaitsForWritable {
                tlsPhase = .open(readWaitsForWritable: false, writeWaitsForReadable: writeWaitsForReadable)
                readAvailable()
            }
            if !isClosed && readiness.isReadable && writeWaitsForReadable, case .open(let readWaits, _) = tlsPhase {
                tlsPhase = .open(readWaitsForWritable: readWaits, writeWaitsForReadable: false)
                flush()
            }
        case .none:
            break
        }
        if !isClosed && readiness.isWritable && !queue.isEmpty { flush() }
        if !isClosed && readiness.isReadable && (reading || readiness.rawValue & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0) {
            readAvailable()
        }
    }

    private func continueHandshake() {
        guard let tls, !isClosed else { return }
        switch tls.handshake() {
        case .done:
            tlsPhase = .open(readWaitsForWritable: false, writeWaitsForReadable: false)
            updateInterest()
            onSecured()
            if !isClosed && !queue.isEmpty { flush() }
            if !isClosed { readAvailable() }
        case .wantRead:
            tlsPhase = .handshaking(waitingFor: .read)
            updateInterest()
        case .wantWrite:
            tlsPhase = .handshaking(waitingFor: .write)
            updateInterest()
        case .closed:
            close(.tlsFailed(TLSFailure(kind: .connectionClosed, detail: "the peer closed the connection during the TLS handshake")))
        case .failed(let failure):
            close(.tlsFailed(failure))
        }
    }

    private func readAvailable() {
        if let tls { return readAvailable(through: tls) }
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

    private func readAvailable(through tls: TLSSession) {
        guard isSecured else { return }
        var rounds = 0
        while !isClosed && rounds < 16 {
            rounds += 1
            switch readBuffer.withUnsafeMutableBytes({ tls.read(into: $0) }) {
            case .done(let count):
                readBuffer.withUnsafeBytes { onBytes(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if !reading { return }
            case .wantRead:
                return
            case .wantWrite:
                if case .open(_, let writeWaits) = tlsPhase { tlsPhase = .open(readWaitsForWritable: true, writeWaitsForReadable: writeWaits) }
                return updateInterest()
            case .closed:
                return close(.peerClosed)
            case .failed(let failure):
                return close(.tlsFailed(failure))
            }
        }
        if !isClosed && tls.hasBufferedBytes { loop.runBeforeNextWait { [weak self] in self?.readAvailable() } }
    }

    private func flush() {
        wantsWrite = false
        if let tls { return flush(through: tls) }
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
        finishFlush()
    }

    private func finishFlush() {
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

    private func flush(through tls: TLSSession) {
        guard isSecured else { return }
        loop: while !isClosed && !queue.isEmpty {
            switch writeRecord(through: tls) {
            case .done(let written):
                consume(written)
            case .wantWrite:
                break loop
            case .wantRead:
                if case .open(let readWaits, _) = tlsPhase { tlsPhase = .open(readWaitsForWritable: readWaits, writeWaitsForReadable: true) }
                break loop
            case .closed:
                return close(.peerClosed)
            case .failed(let failure):
                return close(.tlsFailed(failure))
            }
        }
        finishFlush()
    }

    /// Writes the queue's front, small chunks gathered into one record. A retry after want-write
    /// presents the same bytes first, as OpenSSL requires: the queue only grows at its end.
    private func writeRecord(through tls: TLSSession) -> TLSSession.Outcome {
        let head = queue[0]
        if queue.count == 1 || head.count - headOffset >= Self.recordPayload {
            return head.withUnsafeBytes { tls.write(UnsafeRawBufferPointer(rebasing: $0[headOffset...])) }
        }
        var gathered: [UInt8] = []
        gathered.reserveCapacity(Self.recordPayload)
        gathered += head[headOffset...]
        for chunk in queue.dropFirst() {
            guard gathered.count + chunk.count <= Self.recordPayload else { break }
            gathered += chunk
        }
        return gathered.withUnsafeBytes { tls.write($0) }
    }

    private func writeVector() -> Int {
        GatheredWrite.withVectors(queue.prefix(64), firstOffset: headOffset) { vectors in
            writev(descriptor, vectors.baseAddress, Int32(vectors.count))
        }
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
        switch tlsPhase {
        case .handshaking(let waitingFor):
            interest = waitingFor
        case .open(let readWaitsForWritable, let writeWaitsForReadable):
            if reading || writeWaitsForReadable { interest.insert(.read) }
            if !queue.isEmpty || readWaitsForWritable { interest.insert(.write) }
        case .none:
            if reading { interest.insert(.read) }
            if !queue.isEmpty { interest.insert(.write) }
        }
        loop.modify(descriptor, interest: interest)
    }
}
