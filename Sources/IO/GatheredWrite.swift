import Glibc

/// `iovec`s over byte arrays, valid only inside `body`: each array's storage is borrowed by
/// nesting its `withUnsafeBytes`, so no pointer outlives the call that lent it.
public enum GatheredWrite {
    /// Calls `body` with one vector per array (the first one from `firstOffset`), each followed
    /// by `separator` when one is given.
    public static func withVectors<Result>(
        _ chunks: ArraySlice<[UInt8]>, firstOffset: Int = 0, separator: UnsafeMutableRawPointer? = nil,
        _ body: (UnsafeBufferPointer<iovec>) -> Result
    ) -> Result {
        var vectors: [iovec] = []
        vectors.reserveCapacity(chunks.count * (separator == nil ? 1 : 2))
        return borrow(chunks, offset: firstOffset, separator: separator, into: &vectors, body)
    }

    private static func borrow<Result>(
        _ chunks: ArraySlice<[UInt8]>, offset: Int, separator: UnsafeMutableRawPointer?, into vectors: inout [iovec],
        _ body: (UnsafeBufferPointer<iovec>) -> Result
    ) -> Result {
        guard let first = chunks.first else { return vectors.withUnsafeBufferPointer(body) }
        return first.withUnsafeBytes { bytes in
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress.map { $0 + offset }), iov_len: bytes.count - offset))
            if let separator { vectors.append(iovec(iov_base: separator, iov_len: 1)) }
            return borrow(chunks.dropFirst(), offset: 0, separator: separator, into: &vectors, body)
        }
    }
}
