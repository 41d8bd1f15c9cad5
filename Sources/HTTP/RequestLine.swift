/// The first line of a request, `method SP request-target SP HTTP-version` (RFC 9112 §3),
/// with single spaces and a target in the form its method allows.
struct RequestLine: StartLine {
    let method: String
    let target: String
    let version: HTTPVersion

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, limits: HTTPLimits) throws(HTTPParseError) {
        let maxTargetBytes = limits.maxTargetBytes
        var methodEnd = line.lowerBound
        while methodEnd < line.upperBound && ASCII.isTokenCharacter(bytes[methodEnd]) { methodEnd += 1 }
        guard methodEnd > line.lowerBound, methodEnd < line.upperBound, bytes[methodEnd] == ASCII.space else {
            throw .badRequest(methodEnd == line.lowerBound ? "request line does not start with a method" : "method is not a token")
        }
        let targetStart = methodEnd + 1
        guard let targetEnd = bytes[targetStart..<line.upperBound].firstIndex(of: ASCII.space) else {
            throw .badRequest("request line is not 'method target version'")
        }
        let targetRange = targetStart..<targetEnd
        let versionRange = (targetEnd + 1)..<line.upperBound
        guard !targetRange.isEmpty else { throw .badRequest("empty request target") }
        guard targetRange.count <= maxTargetBytes else {
            throw HTTPParseError(status: 414, reason: "request target longer than \(maxTargetBytes) bytes")
        }
        for index in targetRange where !(0x21...0x7E).contains(bytes[index]) {
            throw .badRequest("request target holds a control character or a non-ASCII byte")
        }
        guard let version = HTTPVersion.parse(bytes, versionRange) else {
            if HTTPVersion.isWellFormed(bytes, versionRange) {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[versionRange]), as: UTF8.self)
                throw HTTPParseError(status: 505, reason: "\(text) is not supported; only HTTP/1.0 and HTTP/1.1 are")
            }
            if bytes[versionRange].contains(ASCII.space) {
                throw .badRequest("request line has more than three parts (a space in the target?)")
            }
            throw .badRequest("malformed HTTP version in the request line")
        }
        self.method = String(decoding: UnsafeBufferPointer(rebasing: bytes[line.lowerBound..<methodEnd]), as: UTF8.self)
        self.target = String(decoding: UnsafeBufferPointer(rebasing: bytes[targetRange]), as: UTF8.self)
        self.version = version
        try RequestTarget.checkForm(of: target, method: method)
    }

    /// A request line that outgrows the whole head limit is longer than any target allowed,
    /// unless targets may be longer than the head.
    static func tooLongError(limits: HTTPLimits) -> HTTPParseError {
        if limits.maxHeaderBytes >= limits.maxTargetBytes {
            return HTTPParseError(status: 414, reason: "request line longer than the target limit of \(limits.maxTargetBytes) bytes")
        }
        return HTTPParseError(status: 431, reason: "request line over the header limit of \(limits.maxHeaderBytes) bytes")
    }
}
