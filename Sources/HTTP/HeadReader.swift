/// The first line of a message head: a request line or a status line.
protocol StartLine: Sendable {
    init(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, limits: HTTPLimits) throws(HTTPParseError)
    /// What to report when the size limit is reached before the start line ends.
    static func tooLongError(limits: HTTPLimits) -> HTTPParseError
}

/// Reads a message head from the front of the unread bytes, a line at a time as lines
/// complete: a few empty lines before the start line are skipped, then the start line and
/// the header fields, within `maxHeaderBytes` and `maxHeaderCount`. Each line is parsed once,
/// and its bytes can be consumed as soon as it is read.
struct HeadReader<Start: StartLine>: Sendable {
    /// RFC 9112 §2.2 asks servers to skip at least one; a stream of them is not a request.
    static var maxEmptyLinesBeforeStartLine: Int { 4 }

    private let limits: HTTPLimits
    private var lines = LineFinder()
    private var emptyLinesSkipped = 0
    private(set) var startLine: Start?
    private(set) var section = HeaderSection()
    /// Bytes of the head read so far, from the start line on, CRLFs included.
    private(set) var byteCount = 0
    private(set) var fieldCount = 0
    private(set) var isComplete = false

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Whether any of the head has been read (empty lines before it do not count).
    var hasStarted: Bool { startLine != nil }

    /// Reads the lines `buffer` completes; returns how many bytes they took, which the caller
    /// consumes before the next call.
    mutating func read(_ buffer: ReceiveBuffer) throws(HTTPParseError) -> Int {
        try buffer.withUnreadBytes { (bytes) throws(HTTPParseError) -> Int in
            var offset = 0
            while !isComplete {
                let rest = UnsafeBufferPointer(rebasing: bytes[offset...])
                switch lines.find(in: rest, maxLength: limits.maxHeaderBytes - byteCount) {
                case .needMore:
                    return offset
                case .bareLineFeed:
                    throw .badRequest("bare LF in the head; lines must end with CRLF")
                case .tooLong:
                    if startLine == nil { throw Start.tooLongError(limits: limits) }
                    throw HTTPParseError(status: 431, reason: "header section over the limit of \(limits.maxHeaderBytes) bytes")
                case .line(let contentLength, let length):
                    offset += length
                    try read(line: 0..<contentLength, length: length, of: rest)
                }
            }
            return offset
        }
    }

    private mutating func read(line: Range<Int>, length: Int, of bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) {
        if startLine == nil && line.isEmpty {
            emptyLinesSkipped += 1
            guard emptyLinesSkipped <= Self.maxEmptyLinesBeforeStartLine else {
                throw .badRequest("more than \(Self.maxEmptyLinesBeforeStartLine) empty lines before the start line")
            }
            return
        }
        byteCount += length
        if startLine == nil {
            startLine = try Start(bytes, line, limits: limits)
        } else if line.isEmpty {
            isComplete = true
        } else {
            fieldCount += 1
            guard fieldCount <= limits.maxHeaderCount else {
                throw HTTPParseError(status: 431, reason: "more header fields than the limit of \(limits.maxHeaderCount)")
            }
            try section.add(FieldLine(bytes, line), in: bytes)
        }
    }
}
