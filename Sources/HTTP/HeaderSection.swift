/// A header section as its lines are read: the fields in order, and the framing facts the
/// parsers act on, noted as the fields go by so nothing is looked up by name afterwards.
struct HeaderSection: Sendable {
    private(set) var fields: [HTTPHeaders.Element] = []
    /// The value all `Content-Length` fields agree on.
    private(set) var contentLength: Int?
    private(set) var transferCodings = TransferCodings()
    private(set) var hostCount = 0
    private(set) var expectsContinue = false

    /// The transfer codings of all `Transfer-Encoding` fields, in order.
    struct TransferCodings: Sendable {
        private(set) var isPresent = false
        private(set) var count = 0
        private(set) var chunkedCount = 0
        private(set) var isChunkedLast = false

        /// Exactly `chunked`: the only coding this module decodes.
        var isChunkedOnly: Bool { count == 1 && chunkedCount == 1 }

        mutating func note(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) {
            isPresent = true
            ASCII.forEachListElement(bytes, value) { coding in
                count += 1
                isChunkedLast = ASCII.equalsIgnoringCase(bytes, coding, "chunked")
                if isChunkedLast { chunkedCount += 1 }
            }
        }
    }

    mutating func add(_ line: FieldLine, in bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) {
        fields.append((name: line.nameText(bytes), value: line.valueText(bytes)))
        switch line.name.count {
        case 4 where line.nameIs("host", in: bytes):
            hostCount += 1
        case 6 where line.nameIs("expect", in: bytes):
            if ASCII.equalsIgnoringCase(bytes, line.value, "100-continue") { expectsContinue = true }
        case 14 where line.nameIs("content-length", in: bytes):
            try noteContentLength(bytes, line.value)
        case 17 where line.nameIs("transfer-encoding", in: bytes):
            transferCodings.note(bytes, line.value)
        default:
            break
        }
    }

    /// Digits only, no sign or list; repeated fields must agree (RFC 9112 §6.3).
    private mutating func noteContentLength(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) throws(HTTPParseError) {
        guard !value.isEmpty else { throw .badRequest("empty Content-Length") }
        var length = 0
        for index in value {
            let byte = bytes[index]
            guard ASCII.isDigit(byte) else { throw .badRequest("Content-Length is not a decimal number") }
            let (shifted, overflowOnMultiply) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflowOnAdd) = shifted.addingReportingOverflow(Int(byte - ASCII.zero))
            guard !overflowOnMultiply && !overflowOnAdd else { throw .badRequest("Content-Length too large to represent") }
            length = sum
        }
        if let previous = contentLength, previous != length {
            throw .badRequest("conflicting Content-Length values")
        }
        contentLength = length
    }

    var headers: HTTPHeaders { HTTPHeaders(fields: fields) }

    /// How the body of a request with these fields is delimited (RFC 9112 §6.3), refusing
    /// every ambiguity that could let two parsers disagree on where the request ends.
    func requestFraming(version: HTTPVersion, maxBodyBytes: Int) throws(HTTPParseError) -> BodyFraming {
        if transferCodings.isPresent {
            guard contentLength == nil else { throw .badRequest("Content-Length and Transfer-Encoding both present") }
            guard version == .http1_1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            try checkChunkedIsFinal()
            guard transferCodings.isChunkedOnly else {
                throw HTTPParseError(status: 501, reason: "unsupported transfer coding (only chunked is implemented)")
            }
            return .chunked
        }
        guard let contentLength else { return .none }
        guard contentLength <= maxBodyBytes else {
            throw HTTPParseError(status: 413, reason: "declared body of \(contentLength) bytes is over the limit of \(maxBodyBytes)")
        }
        return contentLength == 0 ? .none : .length(contentLength)
    }

    /// How a response body is delimited (RFC 9112 §6.3); statuses are the request side's,
    /// the response parser reports them all as 502.
    func responseFraming(status: Int, toHeadRequest: Bool) throws(HTTPParseError) -> BodyFraming {
        if toHeadRequest || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        if transferCodings.isPresent {
            guard contentLength == nil else { throw .badRequest("Content-Length and Transfer-Encoding both present") }
            try checkChunkedIsFinal()
            guard transferCodings.isChunkedOnly else { throw .badRequest("unsupported transfer coding (only chunked is implemented)") }
            return .chunked
        }
        guard let contentLength else { return .untilClose }
        return contentLength == 0 ? .none : .length(contentLength)
    }

    private func checkChunkedIsFinal() throws(HTTPParseError) {
        guard transferCodings.count > 0 else { throw .badRequest("Transfer-Encoding without a coding") }
        if transferCodings.chunkedCount > 1 || (transferCodings.chunkedCount == 1 && !transferCodings.isChunkedLast) {
            throw .badRequest("chunked must be the final transfer coding and applied once")
        }
    }
}

/// How a message body is delimited.
enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int)
    case chunked
    /// Response bodies only: everything until the server closes the connection.
    case untilClose
}
