/// One server-sent event (WHATWG HTML, "Server-sent events").
public struct SSEEvent: Sendable, Equatable {
    /// The `id` field of this event, if it had one.
    public var id: String?
    /// The event type; nil means the default, `message`.
    public var event: String?
    public var data: String
    /// The reconnection time in milliseconds the event asked for.
    public var retry: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The event on the wire: `id`, `event` and `retry` fields, one `data` field per line of
    /// `data` (split at CRLF, CR or LF), then the empty line that dispatches it. CR, LF and NUL
    /// are dropped from `id` and `event`, so no value can end the event early or forge fields.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.utf8.count + 16)
        if let id { Self.appendField("id", id, to: &bytes) }
        if let event { Self.appendField("event", event, to: &bytes) }
        if let retry, retry >= 0 { Self.appendField("retry", String(retry), to: &bytes) }
        var lineStart = data.utf8.startIndex
        var previousWasCarriageReturn = false
        for index in data.utf8.indices {
            let byte = data.utf8[index]
            if byte == ASCII.lineFeed && previousWasCarriageReturn {
                lineStart = data.utf8.index(after: index)
            } else if byte == ASCII.lineFeed || byte == ASCII.carriageReturn {
                Self.appendDataLine(data.utf8[lineStart..<index], to: &bytes)
                lineStart = data.utf8.index(after: index)
            }
            previousWasCarriageReturn = byte == ASCII.carriageReturn
        }
        Self.appendDataLine(data.utf8[lineStart...], to: &bytes)
        bytes.append(ASCII.lineFeed)
        return bytes
    }

    private static func appendField(_ name: String, _ value: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(ASCII.colon)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: value.utf8.lazy.filter { $0 != ASCII.carriageReturn && $0 != ASCII.lineFeed && $0 != ASCII.nul })
        bytes.append(ASCII.lineFeed)
    }

    private static func appendDataLine(_ line: Substring.UTF8View, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: "data: ".utf8)
        bytes.append(contentsOf: line)
        bytes.append(ASCII.lineFeed)
    }
}
