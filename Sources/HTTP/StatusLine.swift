/// The first line of a response, `HTTP-version SP status-code SP [reason-phrase]`
/// (RFC 9112 §4); a missing space before an empty reason is tolerated.
struct StatusLine: StartLine {
    let version: HTTPVersion
    let status: Int
    let reason: String

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, limits: HTTPLimits) throws(HTTPParseError) {
        let start = line.lowerBound
        guard line.count >= 12, let version = HTTPVersion.parse(bytes, start..<(start + 8)) else {
            throw .badRequest("status line does not start with HTTP/1.0 or HTTP/1.1")
        }
        let digits = (start + 9)..<(start + 12)
        guard bytes[start + 8] == ASCII.space, digits.allSatisfy({ ASCII.isDigit(bytes[$0]) }) else {
            throw .badRequest("status line has no three-digit status code")
        }
        let status = digits.reduce(0) { $0 * 10 + Int(bytes[$1] - ASCII.zero) }
        guard status >= 100 && status <= 599 else { throw .badRequest("status code \(status) out of range") }
        var reason = ""
        if line.count > 12 {
            guard bytes[start + 12] == ASCII.space else { throw .badRequest("status code not followed by a space") }
            let reasonRange = (start + 13)..<line.upperBound
            var isASCII = true
            for index in reasonRange {
                guard ASCII.isFieldValueByte(bytes[index]) else { throw .badRequest("control character in the reason phrase") }
                if bytes[index] >= 0x80 { isASCII = false }
            }
            reason = ASCII.decodeFieldText(bytes, reasonRange, isASCII: isASCII)
        }
        self.version = version
        self.status = status
        self.reason = reason
    }

    static func tooLongError(limits: HTTPLimits) -> HTTPParseError {
        .badRequest("status line over the header limit of \(limits.maxHeaderBytes) bytes")
    }
}
