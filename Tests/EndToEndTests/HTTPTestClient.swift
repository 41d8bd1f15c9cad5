import Foundation
import Glibc
import JSON

/// A deliberately plain HTTP/1.1 client for the tests: blocking socket, raw bytes out, responses
/// parsed just enough to check them (Content-Length, chunked, SSE events).
final class HTTPTestClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var json: JSONValue? { try? JSONParser.parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The `data:` payloads of an SSE body, parsed.
        var events: [JSONValue] { HTTPTestClient.sseData(body).compactMap { try? JSONParser.parse($0) } }
    }

    let port: Int
    private(set) var descriptor: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        self.port = port
        try connect()
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func connect() throws {
        if descriptor >= 0 { close(descriptor) }
        buffer = []
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw TestTimeout(waitingFor: "connect to port \(port): errno \(errno)") }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            offset += count
        }
    }

    /// A request with the MCP headers most tests want.
    func post(_ message: JSONValue, session: String? = nil, headers extra: [String: String] = [:], path: String = "/mcp") -> Void {
        let body = Array(message.serializedString.utf8)
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
        head += "Accept: application/json, text/event-stream\r\nContent-Length: \(body.count)\r\n"
        if let session { head += "Mcp-Session-Id: \(session)\r\n" }
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        write(Array((head + "\r\n").utf8) + body)
    }

    func get(_ path: String, headers extra: [String: String] = [:]) {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        write(head + "\r\n")
    }

    /// Reads bytes until `enough` says the buffer holds what is wanted, or EOF, or the timeout.
    private func fill(timeout: Double, until enough: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !enough() {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw TestTimeout(waitingFor: "an HTTP response on port \(port)") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(descriptor, &chunk, chunk.count)
            if count <= 0 { throw ConnectionClosed() }
            buffer += chunk[..<count]
        }
    }

    struct ConnectionClosed: Error {}

    /// Whether the server closes the connection within `timeout` seconds.
    func isClosed(within timeout: Double) -> Bool {
        do {
            try fill(timeout: timeout) { false }
        } catch is ConnectionClosed {
            return true
        } catch {}
        return false
    }

    /// One whole response. With `untilEvents`, a streamed body is read only until that many SSE events arrived.
    func response(timeout: Double = 15, untilEvents: Int? = nil) throws -> Response {
        let separator = Array("\r\n\r\n".utf8)
        try fill(timeout: timeout) { buffer.firstRange(of: separator) != nil }
        let headEnd = buffer.firstRange(of: separator)!
        let lines = String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeSubrange(..<headEnd.upperBound)
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(status: status, headers: headers, body: [])
        if let length = response.header("Content-Length").flatMap(Int.init) {
            try fill(timeout: timeout) { buffer.count >= length }
            response.body = Array(buffer[..<length])
            buffer.removeSubrange(..<length)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunk(timeout: timeout) {
                response.body += chunk
                if let wanted = untilEvents, Self.sseData(response.body).count >= wanted { break }
            }
        }
        return response
    }

    /// The next chunk of a chunked body; nil at its last chunk.
    private func readChunk(timeout: Double) throws -> [UInt8]? {
        let crlf = Array("\r\n".utf8)
        try fill(timeout: timeout) { buffer.firstRange(of: crlf) != nil }
        let lineEnd = buffer.firstRange(of: crlf)!
        let size = Int(String(decoding: buffer[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
        try fill(timeout: timeout) { buffer.count >= lineEnd.upperBound + size + 2 }
        let chunk = Array(buffer[lineEnd.upperBound..<(lineEnd.upperBound + size)])
        buffer.removeSubrange(..<(lineEnd.upperBound + size + 2))
        return size == 0 ? nil : chunk
    }

    /// More of a streamed body after `response(untilEvents:)`: until `count` more events, or its end.
    func moreEvents(_ count: Int, timeout: Double = 15) throws -> [JSONValue] {
        var body: [UInt8] = []
        while Self.sseData(body).count < count, let chunk = try readChunk(timeout: timeout) { body += chunk }
        return Self.sseData(body).compactMap { try? JSONParser.parse($0) }
    }

    static func sseData(_ body: [UInt8]) -> [[UInt8]] {
        String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n").compactMap { block in
            let data = block.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }
            return data.isEmpty ? nil : Array(data.joined(separator: "\n").utf8)
        }
    }

    /// SSE event ids in a body, in order.
    static func eventIDs(_ body: [UInt8]) -> [String] {
        String(decoding: body, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
    }

    /// A port nothing listens on right now.
    static func freePort() -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Array where Element == UInt8 {
    func firstRange(of pattern: [UInt8]) -> Range<Int>? {
        guard count >= pattern.count else { return nil }
        for start in 0...(count - pattern.count) where self[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start..<(start + pattern.count)
        }
        return nil
    }
}
