/// Decodes a chunked body (RFC 9112 §7.1) from the front of the unread bytes as they arrive:
/// hexadecimal chunk sizes (extensions checked, then ignored), data followed by CRLF, the last
/// chunk, and trailer fields, which are checked, counted against the head's limits, and dropped.
struct ChunkedBodyDecoder: Sendable {
    private enum Stage: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers
        case finished
    }

    /// A chunk size line longer than this is refused; extensions are the only reason for length.
    static let maxSizeLineBytes = 4096

    private var stage = Stage.size
    private var lines = LineFinder()
    private let maxBodyBytes: Int
    private let limits: HTTPLimits
    private var trailerBytesLeft: Int
    private var trailerFieldsLeft: Int
    private(set) var decodedByteCount = 0

    /// `headBytes` and `headFields` are what the head already used of `limits`.
    init(limits: HTTPLimits, headBytes: Int, headFields: Int, maxBodyBytes: Int) {
        self.maxBodyBytes = max(maxBodyBytes, 0)
        self.limits = limits
        self.trailerBytesLeft = limits.maxHeaderBytes - headBytes
        self.trailerFieldsLeft = limits.maxHeaderCount - headFields
    }

    var isFinished: Bool {
        if case .finished = stage { return true }
        return false
    }

    /// Decodes what `buffer` holds, appending chunk data to `body`; returns how many bytes it
    /// used, which the caller consumes before the next call.
    mutating func decode(_ buffer: ReceiveBuffer, into body: inout [UInt8]) throws(HTTPParseError) -> Int {
        try buffer.withUnreadBytes { (bytes) throws(HTTPParseError) -> Int in
            var offset = 0
            while true {
                let rest = UnsafeBufferPointer(rebasing: bytes[offset...])
                switch stage {
                case .size:
                    guard let line = try nextLine(in: rest, maxLength: Self.maxSizeLineBytes, what: "chunk size line") else { return offset }
                    let size = try Self.chunkSize(rest, 0..<line.contentLength)
                    offset += line.length
                    if size == 0 {
                        stage = .trailers
                    } else {
                        guard size <= maxBodyBytes - decodedByteCount else {
                            throw HTTPParseError(status: 413, reason: "chunked body over the limit of \(maxBodyBytes) bytes")
                        }
                        decodedByteCount += size
                        stage = .data(remaining: size)
                    }
                case .data(let remaining):
                    guard !rest.isEmpty else { return offset }
                    let taken = min(remaining, rest.count)
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: rest[0..<taken]))
                    offset += taken
                    stage = taken == remaining ? .dataEnd : .data(remaining: remaining - taken)
                case .dataEnd:
                    guard !rest.isEmpty else { return offset }
                    guard rest[0] == ASCII.carriageReturn, rest.count < 2 || rest[1] == ASCII.lineFeed else {
                        throw .badRequest("chunk data not followed by CRLF")
                    }
                    guard rest.count >= 2 else { return offset }
                    offset += 2
                    stage = .size
                case .trailers:
                    guard let line = try nextLine(in: rest, maxLength: trailerBytesLeft, what: "trailer section") else { return offset }
                    offset += line.length
                    trailerBytesLeft -= line.length
                    guard line.contentLength > 0 else {
                        stage = .finished
                        return offset
                    }
                    _ = try FieldLine(rest, 0..<line.contentLength)
                    trailerFieldsLeft -= 1
                    guard trailerFieldsLeft >= 0 else {
                        throw HTTPParseError(status: 431, reason: "more header and trailer fields than the limit of \(limits.maxHeaderCount)")
                    }
                case .finished:
                    return offset
                }
            }
        }
    }

    private mutating func nextLine(
        in bytes: UnsafeBufferPointer<UInt8>, maxLength: Int, what: String
    ) throws(HTTPParseError) -> (contentLength: Int, length: Int)? {
        switch lines.find(in: bytes, maxLength: maxLength) {
        case .line(let contentLength, let length):
            return (contentLength, length)
        case .needMore:
            return nil
        case .bareLineFeed:
            throw .badRequest("bare LF in the \(what); lines must end with CRLF")
        case .tooLong:
            if case .trailers = stage {
                throw HTTPParseError(status: 431, reason: "header and trailer sections together over the limit of \(limits.maxHeaderBytes) bytes")
            }
            throw .badRequest("\(what) longer than \(maxLength) bytes")
        }
    }

    /// `1*HEXDIG [ BWS ";" chunk-ext ]`; extensions are only checked for control characters.
    static func chunkSize(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws(HTTPParseError) -> Int {
        var index = line.lowerBound
        var size = 0
        while index < line.upperBound, let digit = ASCII.hexValue(bytes[index]) {
            guard size <= Int.max >> 4 else { throw .badRequest("chunk size too large to represent") }
            size = size << 4 | digit
            index += 1
        }
        guard index > line.lowerBound else { throw .badRequest("chunk size is not hexadecimal") }
        while index < line.upperBound && ASCII.isWhitespace(bytes[index]) { index += 1 }
        guard index < line.upperBound else { return size }
        guard bytes[index] == ASCII.semicolon else { throw .badRequest("unexpected character after the chunk size") }
        for extensionIndex in (index + 1)..<line.upperBound where !ASCII.isFieldValueByte(bytes[extensionIndex]) {
            throw .badRequest("control character in a chunk extension")
        }
        return size
    }
}
