import HTTP
import Testing

@Suite("Server-sent events")
struct SSETests {
    private func parse(_ pieces: [String], maxEventBytes: Int = 1 << 20) throws -> [SSEEvent] {
        var parser = SSEParser(maxEventBytes: maxEventBytes)
        return try pieces.flatMap { try parser.append($0.bytes) }
    }

    @Test("an event is encoded as id, event, retry, one data line per line, and an empty line")
    func encoding() {
        let event = SSEEvent(id: "7", event: "message", data: "a\r\nb\rc\nd", retry: 1500)
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "id: 7\nevent: message\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
        #expect(String(decoding: SSEEvent(data: "").encoded(), as: UTF8.self) == "data: \n\n")
    }

    @Test("CR, LF and NUL in id and event are dropped, so they cannot break the framing")
    func encodingSanitizes() throws {
        let event = SSEEvent(id: "1\n\ndata: forged\n\n\0", event: "x\r\ny", data: "real")
        let text = String(decoding: event.encoded(), as: UTF8.self)
        #expect(text == "id: 1data: forged\nevent: xy\ndata: real\n\n")
        #expect(try parse([text]).count == 1)
    }

    @Test("encoded events parse back to themselves, multi-line data and leading spaces included", arguments: [
        SSEEvent(data: "{\"jsonrpc\":\"2.0\"}"),
        SSEEvent(id: "s1-42", event: "message", data: "line one\nline two\n\nline four"),
        SSEEvent(data: " leading space", retry: 10),
        SSEEvent(id: "", data: "x"),
        SSEEvent(event: "endpoint", data: "/messages?sessionId=abc"),
        SSEEvent(data: "ünïcødé ✓"),
        SSEEvent(data: ""),
    ])
    func roundTrip(event: SSEEvent) throws {
        #expect(try parse([String(decoding: event.encoded(), as: UTF8.self)]) == [event])
    }

    @Test("lines may end with LF, CRLF or CR")
    func lineEndings() throws {
        let events = try parse(["data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\r\ndata: e\n\r\n"])
        #expect(events.map(\.data) == ["a", "b", "c", "d\ne"])
    }

    @Test("a CRLF split between two appends ends one line, not two")
    func splitCRLF() throws {
        let events = try parse(["data: a\r", "\ndata: b\r", "\n\r", "\n"])
        #expect(events.map(\.data) == ["a\nb"])
    }

    @Test("events split at every byte parse as when whole")
    func byteByByte() throws {
        let text = "\u{FEFF}: comment\r\nid: 1\r\nevent: e\r\ndata: x\r\n\r\ndata:y\rdata\r\r"
        let whole = try parse([text])
        var parser = SSEParser(maxEventBytes: 100)
        let split = try text.bytes.flatMap { try parser.append([$0]) }
        #expect(whole == split)
        #expect(whole == [SSEEvent(id: "1", event: "e", data: "x"), SSEEvent(data: "y\n")])
    }

    @Test("comments, unknown fields and events without data dispatch nothing")
    func ignored() throws {
        #expect(try parse([": keep-alive\n\n", "foo: bar\n\n", "event: x\n\n", "retry: 5\n\n"]).isEmpty)
    }

    @Test("a field without a colon has an empty value; only one space after the colon is removed")
    func fieldSyntax() throws {
        #expect(try parse(["data\ndata\n\n"]).map(\.data) == ["\n"])
        #expect(try parse(["data:  two spaces\n\n"]).map(\.data) == [" two spaces"])
        #expect(try parse(["data:none\n\n"]).map(\.data) == ["none"])
        #expect(try parse(["Data: case matters\n\n"]).isEmpty)
    }

    @Test("a UTF-8 BOM is skipped at the start of the stream only, even when split")
    func byteOrderMark() throws {
        var parser = SSEParser(maxEventBytes: 100)
        #expect(try parser.append([0xEF]).isEmpty)
        #expect(try parser.append([0xBB]).isEmpty)
        #expect(try parser.append([0xBF] + "data: x\n\n".bytes) == [SSEEvent(data: "x")])
        #expect(try parser.append([0xEF, 0xBB, 0xBF] + "data: y\n\n".bytes).isEmpty)
    }

    @Test("retry takes digits only; the reconnection time persists")
    func retry() throws {
        var parser = SSEParser(maxEventBytes: 100)
        #expect(try parser.append("retry: 3000\ndata: a\n\n".bytes) == [SSEEvent(data: "a", retry: 3000)])
        #expect(try parser.append("retry: 12x\nretry: -1\nretry:\ndata: b\n\n".bytes) == [SSEEvent(data: "b")])
        #expect(parser.reconnectionTime == 3000)
        _ = try parser.append("retry: 99999999999999999999999\n\n".bytes)
        #expect(parser.reconnectionTime == 3000)
    }

    @Test("the last event id persists across events, is cleared by an empty id, and ignores ids with NUL")
    func lastEventID() throws {
        var parser = SSEParser(maxEventBytes: 100)
        _ = try parser.append("id: 1\ndata: a\n\ndata: b\n\n".bytes)
        #expect(parser.lastEventID == "1")
        _ = try parser.append("id: 2\n\n".bytes)
        #expect(parser.lastEventID == "2")
        _ = try parser.append("id: 3\u{0}\ndata: c\n\n".bytes)
        #expect(parser.lastEventID == "2")
        _ = try parser.append("id\n\n".bytes)
        #expect(parser.lastEventID == nil)
    }

    @Test("an event over the limit is dropped with an error; parsing resumes and earlier events are not lost")
    func oversized() throws {
        var parser = SSEParser(maxEventBytes: 16)
        let error = #expect(throws: SSEParseError.self) {
            try parser.append("data: ok\n\ndata: 0123456789\ndata: 0123456789\n\ndata: after\n".bytes)
        }
        #expect(error?.maxEventBytes == 16)
        #expect(try parser.append("\n".bytes) == [SSEEvent(data: "ok"), SSEEvent(data: "after")])
    }

    @Test("an over-long line is not buffered: it is skipped to its end and its event dropped")
    func longLine() throws {
        var parser = SSEParser(maxEventBytes: 16)
        #expect(throws: SSEParseError.self) { try parser.append(("data: " + String(repeating: "x", count: 200)).bytes) }
        #expect(try parser.append(String(repeating: "x", count: 200).bytes).isEmpty)
        #expect(try parser.append("\ndata: more\n\ndata: next\n\n".bytes) == [SSEEvent(data: "next")])
    }
}
