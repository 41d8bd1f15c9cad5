/// Reads server-sent events from a stream's bytes as they arrive (WHATWG HTML, "Server-sent
/// events", interpretation of the event stream): lines end with LF, CRLF or CR, even when a
/// CRLF is split between two appends; `:` starts a comment; a UTF-8 BOM at the start of the
/// stream is skipped; an empty line dispatches the event if it has data.
///
/// Memory is bounded by `maxEventBytes`: an event with more data, or a line longer than that
/// (plus room for the field name), is dropped whole and reported by throwing. Parsing goes on
/// with the next event; events completed by the same append come with the next one.
public struct SSEParser: Sendable {
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
    private static let fieldNameAllowance = 64

    private let maxEventBytes: Int
    private let maxLineBytes: Int
    private var streamStart: [UInt8]? = []
    private var partialLine: [UInt8] = []
    private var skippingLongLine = false
    private var previousLineEndedWithCarriageReturn = false
    private var block = EventBlock()
    private var undelivered: [SSEEvent] = []

    /// The id of the last event dispatched (persisting across events until an `id` field
    /// changes it), to send as `Last-Event-ID` when reconnecting; nil when empty.
    public private(set) var lastEventID: String?
    /// The reconnection time in milliseconds the last valid `retry` field set.
    public private(set) var reconnectionTime: Int?

    public init(maxEventBytes: Int) {
        self.maxEventBytes = max(maxEventBytes, 0)
        let (sum, overflow) = self.maxEventBytes.addingReportingOverflow(Self.fieldNameAllowance)
        self.maxLineBytes = overflow ? .max : sum
    }

    /// The events `bytes` complete, in order.
    public mutating func append(_ bytes: [UInt8]) throws(SSEParseError) -> [SSEEvent] {
        var events = undelivered
        undelivered = []
        var failure: SSEParseError?
        guard let input = skippingByteOrderMark(bytes) else { return events }
        input.withUnsafeBufferPointer { chunk in
            var start = 0
            if previousLineEndedWithCarriageReturn {
                previousLineEndedWithCarriageReturn = false
                if chunk.first == ASCII.lineFeed { start = 1 }
            }
            var lineStart = start
            var index = start
            while index < chunk.count {
                let byte = chunk[index]
                if byte == ASCII.lineFeed || byte == ASCII.carriageReturn {
                    let line = UnsafeBufferPointer(rebasing: chunk[lineStart..<index])
                    if partialLine.isEmpty {
                        take(line, into: &events, failure: &failure)
                    } else {
                        partialLine.append(contentsOf: line)
                        var whole: [UInt8] = []
                        swap(&whole, &partialLine)
                        whole.withUnsafeBufferPointer { take($0, into: &events, failure: &failure) }
                        whole.removeAll(keepingCapacity: true)
                        partialLine = whole
                    }
                    if byte == ASCII.carriageReturn {
                        if index + 1 == chunk.count {
                            previousLineEndedWithCarriageReturn = true
                        } else if chunk[index + 1] == ASCII.lineFeed {
                            index += 1
                        }
                    }
                    lineStart = index + 1
                }
                index += 1
            }
            keepPartialLine(UnsafeBufferPointer(rebasing: chunk[lineStart...]), failure: &failure)
        }
        if let failure {
            undelivered = events
            throw failure
        }
        return events
    }

    /// The bytes after a BOM at the very start of the stream; nil while the first bytes could
    /// still be the start of one.
    private mutating func skippingByteOrderMark(_ bytes: [UInt8]) -> [UInt8]? {
        guard var start = streamStart else { return bytes }
        start.append(contentsOf: bytes)
        if start.count < Self.byteOrderMark.count && Self.byteOrderMark.starts(with: start) {
            streamStart = start
            return nil
        }
        streamStart = nil
        return start.starts(with: Self.byteOrderMark) ? Array(start.dropFirst(Self.byteOrderMark.count)) : start
    }

    private mutating func keepPartialLine(_ bytes: UnsafeBufferPointer<UInt8>, failure: inout SSEParseError?) {
        guard !skippingLongLine, !bytes.isEmpty else { return }
        if partialLine.count + bytes.count > maxLineBytes {
            partialLine = []
            skippingLongLine = true
            failure = SSEParseError(reason: "an event stream line is longer than the event limit", maxEventBytes: maxEventBytes)
        } else {
            partialLine.append(contentsOf: bytes)
        }
    }

    private mutating func take(_ line: UnsafeBufferPointer<UInt8>, into events: inout [SSEEvent], failure: inout SSEParseError?) {
        if skippingLongLine {
            skippingLongLine = false
            block.discard()
        } else if line.count > maxLineBytes {
            block.discard()
            failure = SSEParseError(reason: "an event stream line is longer than the event limit", maxEventBytes: maxEventBytes)
        } else if line.isEmpty {
            lastEventID = block.lastEventID.isEmpty ? nil : block.lastEventID
            if let event = block.dispatch() { events.append(event) }
        } else if !block.take(fieldLine: line, maxDataBytes: maxEventBytes) {
            failure = SSEParseError(reason: "an event has more data than the event limit", maxEventBytes: maxEventBytes)
        }
        if let retry = block.retry { reconnectionTime = retry }
    }
}

/// The fields of the event being read, up to the empty line that dispatches it.
private struct EventBlock: Sendable {
    private var data: [UInt8] = []
    private var hasData = false
    private var type: String?
    private var id: String?
    private(set) var retry: Int?
    /// Persists from event to event, as the spec's "last event ID buffer".
    private(set) var lastEventID = ""
    /// Set when the event outgrew the limit: its lines are ignored until the empty line.
    private var isDiscarded = false

    /// Applies one field line; false when the event's data went over `maxDataBytes`.
    mutating func take(fieldLine line: UnsafeBufferPointer<UInt8>, maxDataBytes: Int) -> Bool {
        guard !isDiscarded, line[0] != ASCII.colon else { return true }
        let colon = line.firstIndex(of: ASCII.colon) ?? line.count
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count && line[valueStart] == ASCII.space { valueStart += 1 }
        let name = 0..<colon
        let value = UnsafeBufferPointer(rebasing: line[valueStart...])
        if line[name].elementsEqual("data".utf8) {
            if hasData { data.append(ASCII.lineFeed) }
            data.append(contentsOf: value)
            hasData = true
            if data.count > maxDataBytes {
                discard()
                return false
            }
        } else if line[name].elementsEqual("event".utf8) {
            type = String(decoding: value, as: UTF8.self)
        } else if line[name].elementsEqual("id".utf8) {
            if !value.contains(ASCII.nul) {
                lastEventID = String(decoding: value, as: UTF8.self)
                id = lastEventID
            }
        } else if line[name].elementsEqual("retry".utf8) {
            if !value.isEmpty && value.allSatisfy(ASCII.isDigit), let milliseconds = Int(String(decoding: value, as: UTF8.self)) {
                retry = milliseconds
            }
        }
        return true
    }

    /// The event, if it had data, and a fresh start for the next one.
    mutating func dispatch() -> SSEEvent? {
        defer { reset() }
        guard hasData, !isDiscarded else { return nil }
        return SSEEvent(id: id, event: type?.isEmpty == false ? type : nil, data: String(decoding: data, as: UTF8.self), retry: retry)
    }

    mutating func discard() {
        reset()
        isDiscarded = true
    }

    private mutating func reset() {
        data.removeAll(keepingCapacity: data.capacity <= 64 * 1024)
        hasData = false
        type = nil
        id = nil
        retry = nil
        isDiscarded = false
    }
}
