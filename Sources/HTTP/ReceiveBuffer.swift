/// Bytes received and not yet parsed. Parsers read from the front and consume what they used;
/// consumed bytes are dropped in bulk (once everything is consumed, or before an append when
/// they outweigh the unread rest), so compaction costs amortized O(1) per byte.
struct ReceiveBuffer: Sendable {
    private var storage: [UInt8] = []
    private var readIndex = 0
    /// Emptied storage larger than this is released rather than kept for reuse.
    private static let retainedCapacity = 64 * 1024

    /// Unread bytes.
    var count: Int { storage.count - readIndex }
    var isEmpty: Bool { readIndex == storage.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        dropConsumedIfWorthwhile()
        bytes.withMemoryRebound(to: UInt8.self) { storage.append(contentsOf: $0) }
    }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        dropConsumedIfWorthwhile()
        storage.append(contentsOf: bytes)
    }

    mutating func consume(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= count, "consuming more than is buffered")
        readIndex += byteCount
        if readIndex == storage.count {
            if storage.capacity > Self.retainedCapacity {
                storage = []
            } else {
                storage.removeAll(keepingCapacity: true)
            }
            readIndex = 0
        }
    }

    mutating func removeAll() {
        consume(count)
    }

    /// The unread bytes, indexed from 0.
    func withUnreadBytes<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try storage.withUnsafeBufferPointer { (all) throws(Failure) -> Result in
            try body(UnsafeBufferPointer(rebasing: all[readIndex...]))
        }
    }

    /// A copy of unread bytes; `range` counts from the first unread byte.
    func copy(_ range: Range<Int>) -> [UInt8] {
        Array(storage[(readIndex + range.lowerBound)..<(readIndex + range.upperBound)])
    }

    private mutating func dropConsumedIfWorthwhile() {
        if readIndex > 0 && readIndex >= storage.count - readIndex {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
