import Glibc

/// Finds the CRLF-terminated line at the front of the unread bytes. It remembers how far it
/// has looked, so a line that arrives a byte at a time is still scanned once.
struct LineFinder: Sendable {
    enum Outcome: Equatable {
        /// A whole line: its content (without CRLF) starts at 0; `length` includes the CRLF.
        case line(contentLength: Int, length: Int)
        case needMore
        /// More than `maxLength` bytes arrived without completing the line.
        case tooLong
        /// A line ended with LF alone, which RFC 9112 lets a strict recipient refuse.
        case bareLineFeed
    }

    /// Bytes already known to hold no LF.
    private var searched = 0

    /// Looks for the end of the line that starts at the first unread byte, allowing lines of up
    /// to `maxLength` bytes including the CRLF.
    mutating func find(in bytes: UnsafeBufferPointer<UInt8>, maxLength: Int) -> Outcome {
        let searchEnd = min(bytes.count, max(maxLength, 0))
        if searched < searchEnd, let base = bytes.baseAddress,
            let found = memchr(base + searched, Int32(ASCII.lineFeed), searchEnd - searched)
        {
            let lineFeed = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            searched = 0
            guard lineFeed > 0, bytes[lineFeed - 1] == ASCII.carriageReturn else { return .bareLineFeed }
            return .line(contentLength: lineFeed - 1, length: lineFeed + 1)
        }
        searched = max(searched, searchEnd)
        return bytes.count > max(maxLength, 0) ? .tooLong : .needMore
    }

    /// Forgets the scan, for when the bytes it scanned are gone.
    mutating func reset() {
        searched = 0
    }
}
