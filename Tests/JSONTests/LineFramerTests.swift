import JSONRPC
import Testing

@Suite("LineFramer")
struct LineFramerTests {
    private func frames(_ chunks: [[UInt8]], maxMessageBytes: Int = 1 << 20) -> [LineFramer.Frame] {
        var framer = LineFramer(maxMessageBytes: maxMessageBytes)
        var out: [LineFramer.Frame] = []
        for chunk in chunks {
            framer.append(chunk)
            while let frame = framer.next() { out.append(frame) }
        }
        if let last = framer.finish() { out.append(last) }
        return out
    }

    private func message(_ text: String) -> LineFramer.Frame { .message(Array(text.utf8)) }

    @Test("messages split across two chunks at every position come out whole")
    func splitsAtEveryPosition() {
        let stream = Array("{\"a\":1}\n{\"b\":\"é😀\"}\r\n\n  \t\r\n[3]\n".utf8)
        let expected = [message(#"{"a":1}"#), message(#"{"b":"é😀"}"#), message("[3]")]
        for split in 0...stream.count {
            #expect(frames([Array(stream[..<split]), Array(stream[split...])]) == expected, "split at \(split)")
        }
        #expect(frames(stream.map { [$0] }) == expected)
    }

    @Test("CRLF endings are stripped and blank or whitespace-only lines are skipped")
    func crlf() {
        #expect(frames([Array("a\r\n\r\n \r\nb\r\r\n".utf8)]) == [message("a"), message("b\r")])
        #expect(frames([Array(" x \n".utf8)]) == [message(" x ")])
    }

    @Test("a line over the limit is dropped as it arrives and reported once with its length")
    func oversized() {
        let long = String(repeating: "x", count: 25)
        let stream = Array("ok\n\(long)\nafter\n".utf8)
        for chunkSize in [1, 3, 7, 100] {
            var framer = LineFramer(maxMessageBytes: 10)
            var out: [LineFramer.Frame] = []
            var maxBuffered = 0
            for start in stride(from: 0, to: stream.count, by: chunkSize) {
                framer.append(Array(stream[start..<min(start + chunkSize, stream.count)]))
                maxBuffered = max(maxBuffered, framer.bufferedByteCount)
                while let frame = framer.next() { out.append(frame) }
            }
            #expect(out == [message("ok"), .oversized(byteCount: 25, head: Array(String(repeating: "x", count: 25).utf8)), message("after")], "chunk size \(chunkSize)")
            if chunkSize < 10 { #expect(maxBuffered <= 11 + chunkSize) }
            #expect(framer.bufferedByteCount == 0)
        }
    }

    @Test("an oversized line keeps its first kilobyte, where a message's id is")
    func oversizedHead() {
        let line = #"{"jsonrpc":"2.0","id":7,"result":""# + String(repeating: "r", count: 5000) + #""}"#
        for chunkSize in [1, 100, 10_000] {
            let stream = Array((line + "\n").utf8)
            let chunks = stride(from: 0, to: stream.count, by: chunkSize).map { Array(stream[$0..<min($0 + chunkSize, stream.count)]) }
            #expect(frames(chunks, maxMessageBytes: 2000) == [.oversized(byteCount: line.utf8.count, head: Array(line.utf8.prefix(1024)))])
        }
    }

    @Test("a line exactly at the limit passes even with a CR before its newline")
    func exactlyAtLimit() {
        let line = String(repeating: "y", count: 10)
        #expect(frames([Array("\(line)\r\n".utf8)], maxMessageBytes: 10) == [message(line)])
        #expect(frames(Array("\(line)\r\n".utf8).map { [$0] }, maxMessageBytes: 10) == [message(line)])
        #expect(frames([Array("\(line)z\n".utf8)], maxMessageBytes: 10) == [.oversized(byteCount: 11, head: Array("\(line)z".utf8))])
    }

    @Test("finish returns an unterminated last line, and an unfinished oversized line as oversized")
    func finish() {
        #expect(frames([Array("a\nb".utf8)]) == [message("a"), message("b")])
        #expect(frames([Array("a\n   ".utf8)]) == [message("a")])
        #expect(frames([Array("a\n0123456789abc".utf8)], maxMessageBytes: 5) == [message("a"), .oversized(byteCount: 13, head: Array("0123456789abc".utf8))])
    }

    @Test("many small lines in one chunk are delivered in order and the buffer drains")
    func manySmallLines() {
        var framer = LineFramer()
        let count = 20_000
        framer.append(Array((0..<count).map { "\($0)\n" }.joined().utf8))
        #expect(framer.bufferedByteCount > 0)
        var seen = 0
        while let frame = framer.next() {
            guard case .message(let bytes) = frame,
                String(decoding: bytes, as: UTF8.self) == (seen == count ? "x" : "\(seen)")
            else {
                Issue.record("unexpected frame \(frame) at \(seen)")
                return
            }
            seen += 1
            if seen == count / 2 { framer.append(Array("x\n".utf8)) }
        }
        #expect(seen == count + 1)
        #expect(framer.bufferedByteCount == 0)
    }
}
