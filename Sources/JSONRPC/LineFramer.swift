#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream (a pipe, a socket) into newline-delimited messages.
///
/// Complete lines are copied straight out of each chunk; only an unfinished line is
/// kept between appends, so each byte is searched for a newline once and copied at
/// most twice. A trailing `\r` is stripped and lines holding only whitespace are
/// skipped. A line longer than `maxMessageBytes` (not counting its newline or a
/// `\r` before it) is dropped as it arrives, never buffered whole, and reported once,
/// when its newline arrives, as `.oversized`.
///
/// After each `append`, call `next()` until it returns nil.
public struct LineFramer: Sendable {
    /// One unit of output.
    public enum Frame: Sendable, Equatable {
        /// A complete line without its line terminator.
        case message([UInt8])
        /// A line that exceeded the limit, with its length (without the newline) and its first
        /// bytes (up to `headByteCount`), enough to find a request's id in.
        case oversized(byteCount: Int, head: [UInt8])
    }

    /// The longest line delivered as a message.
    public let maxMessageBytes: Int

    /// The unfinished line (only while it is within the limit).
    private var partial: [UInt8] = []
    /// Bytes of the oversized line being dropped, while dropping one.
    private var droppedByteCount: Int?
    /// The start of the line being dropped.
    private var droppedHead: [UInt8] = []
    /// How much of an oversized line is kept.
    public static let headByteCount = 1024
    private var ready: [Frame] = []
    private var readyHead = 0
    private var readyByteCount = 0

    /// Creates a framer that delivers lines of up to `maxMessageBytes` bytes.
    public init(maxMessageBytes: Int = 16 << 20) {
        precondition(maxMessageBytes > 0, "maxMessageBytes must be positive")
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes held: the unfinished line plus delivered-but-not-taken messages.
    public var bufferedByteCount: Int { partial.count + readyByteCount }

    /// Adds bytes read from the stream.
    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard let base = chunk.baseAddress else { return }
        let count = chunk.count
        var i = 0
        while i < count {
            let newline = memchr(base + i, 0x0A, count - i).map { base.distance(to: UnsafeRawPointer($0)) }
            let segmentEnd = newline ?? count
            let segment = UnsafeRawBufferPointer(start: base + i, count: segmentEnd - i)
            if newline != nil {
                finishLine(with: segment)
            } else {
                continueLine(with: segment)
            }
            i = segmentEnd + 1
        }
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ chunk: [UInt8]) {
        chunk.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, or nil when more input is needed.
    public mutating func next() -> Frame? {
        guard readyHead < ready.count else { return nil }
        let frame = ready[readyHead]
        // Release the message's storage now rather than at the next compaction.
        ready[readyHead] = .oversized(byteCount: 0, head: [])
        readyHead += 1
        if case .message(let bytes) = frame { readyByteCount -= bytes.count }
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        } else if readyHead >= 32, readyHead * 2 >= ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return frame
    }

    /// Ends the stream: returns the final line if it had no newline, then forgets all
    /// partial input. Call after `next()` has returned nil.
    public mutating func finish() -> Frame? {
        defer {
            partial = []
            droppedByteCount = nil
            droppedHead = []
        }
        if let droppedByteCount { return .oversized(byteCount: droppedByteCount, head: droppedHead) }
        return partial.withUnsafeBytes { Self.frame(forLine: $0) }
    }

    private mutating func continueLine(with segment: UnsafeRawBufferPointer) {
        if let dropped = droppedByteCount {
            droppedByteCount = dropped + segment.count
            keepHead(segment)
        } else if partial.count + segment.count > maxMessageBytes + 1 {
            // One byte of slack: it may be the '\r' of a line that is exactly at the limit.
            droppedByteCount = partial.count + segment.count
            droppedHead = Array((partial + segment.prefix(Self.headByteCount)).prefix(Self.headByteCount))
            partial = []
        } else {
            partial.append(contentsOf: segment)
        }
    }

    private mutating func finishLine(with segment: UnsafeRawBufferPointer) {
        if let dropped = droppedByteCount {
            droppedByteCount = nil
            keepHead(segment)
            enqueue(.oversized(byteCount: dropped + segment.count, head: droppedHead))
            droppedHead = []
            return
        }
        let frame: Frame?
        if partial.isEmpty {
            frame = Self.frame(forLine: segment, limit: maxMessageBytes)
        } else {
            partial.append(contentsOf: segment)
            frame = partial.withUnsafeBytes { Self.frame(forLine: $0, limit: maxMessageBytes) }
            partial.removeAll(keepingCapacity: partial.capacity <= 64 << 10)
        }
        if let frame { enqueue(frame) }
    }

    private mutating func keepHead(_ segment: UnsafeRawBufferPointer) {
        if droppedHead.count < Self.headByteCount { droppedHead += segment.prefix(Self.headByteCount - droppedHead.count) }
    }

    private mutating func enqueue(_ frame: Frame) {
        if case .message(let bytes) = frame { readyByteCount += bytes.count }
        ready.append(frame)
    }

    /// The frame for one line (without its newline), or nil for a blank line.
    private static func frame(forLine line: UnsafeRawBufferPointer, limit: Int = .max) -> Frame? {
        var count = line.count
        if count > 0, line[count - 1] == UInt8(ascii: "\r") { count -= 1 }
        guard count <= limit else { return .oversized(byteCount: line.count, head: Array(line.prefix(headByteCount))) }
        let content = UnsafeRawBufferPointer(rebasing: line[..<count])
        guard content.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return nil }
        return .message([UInt8](content))
    }
}
