import HTTP

/// Test helpers: feed text to a parser and collect what comes out.
enum RequestParsing {
    /// Every request `text` holds, fed in one append.
    static func requests(_ text: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> [HTTPRequest] {
        try requests(Array(text.utf8), limits: limits)
    }

    static func requests(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> [HTTPRequest] {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(bytes)
        var requests: [HTTPRequest] = []
        while let request = try parser.next() { requests.append(request) }
        return requests
    }

    /// The one request `text` holds.
    static func request(_ text: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> HTTPRequest? {
        try requests(text, limits: limits).first
    }

    /// The error parsing `text` ends with, or nil.
    static func error(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParseError? {
        error(Array(text.utf8), limits: limits)
    }

    static func error(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> HTTPParseError? {
        do {
            _ = try requests(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// What feeding `bytes` in pieces of `pieceSize` gives: the requests, then the error if any.
    static func outcome(_ bytes: [UInt8], pieceSize: Int, limits: HTTPLimits = HTTPLimits()) -> ([HTTPRequest], HTTPParseError?) {
        var parser = HTTPRequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        var offset = 0
        repeat {
            let end = min(offset + pieceSize, bytes.count)
            parser.append(Array(bytes[offset..<end]))
            offset = end
            do {
                while let request = try parser.next() { requests.append(request) }
            } catch {
                return (requests, error)
            }
        } while offset < bytes.count
        return (requests, nil)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
