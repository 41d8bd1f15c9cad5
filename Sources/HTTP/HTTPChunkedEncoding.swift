/// The chunked transfer coding (RFC 9112 §7.1), for writing a body whose length is not known
/// when the head is sent.
public enum HTTPChunkedEncoding {
    /// One chunk: hexadecimal size, CRLF, the bytes, CRLF. Empty input gives no bytes at all,
    /// because an empty chunk would end the body.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        let size = String(bytes.count, radix: 16).utf8
        var chunk: [UInt8] = []
        chunk.reserveCapacity(size.count + bytes.count + 4)
        chunk.append(contentsOf: size)
        chunk.append(ASCII.carriageReturn)
        chunk.append(ASCII.lineFeed)
        chunk.append(contentsOf: bytes)
        chunk.append(ASCII.carriageReturn)
        chunk.append(ASCII.lineFeed)
        return chunk
    }

    /// The last chunk with no trailers: `0\r\n\r\n`.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}
