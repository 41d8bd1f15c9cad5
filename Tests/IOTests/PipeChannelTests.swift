import Glibc
import IO
import Testing

/// A channel over two real pipes, on a hand-driven loop: `peerWrite` is what the peer sends us,
/// `peerRead` what we sent it.
final class PipePair {
    let loop = EventLoop.forTesting()
    let channel: PipeChannel
    let peerWrite: Int32
    private(set) var peerRead: Int32
    var messages: [String] = []
    var oversized: [(Int, String)] = []
    var inputEnds: [PipeChannel.InputEnd] = []
    var outputClosed = 0
    var undelivered: [[String]] = []

    init(maxMessageBytes: Int = 1024, maxQueuedBytes: Int = 1 << 20) {
        var toUs: [Int32] = [0, 0]
        var fromUs: [Int32] = [0, 0]
        precondition(pipe(&toUs) == 0 && pipe(&fromUs) == 0)
        peerWrite = toUs[1]
        peerRead = fromUs[0]
        let flags = fcntl(peerRead, F_GETFL)
        _ = fcntl(peerRead, F_SETFL, flags | O_NONBLOCK)
        channel = PipeChannel(
            name: "test", loop: loop, input: toUs[0], output: fromUs[1], maxMessageBytes: maxMessageBytes, maxQueuedBytes: maxQueuedBytes)
        channel.onMessage = { [unowned self] in messages.append(String(decoding: $0, as: UTF8.self)) }
        channel.onOversizedMessage = { [unowned self] in oversized.append(($0, String(decoding: $1, as: UTF8.self))) }
        channel.onInputClosed = { [unowned self] in inputEnds.append($0) }
        channel.onOutputClosed = { [unowned self] in outputClosed += 1 }
        channel.onUndelivered = { [unowned self] in undelivered.append($0.map { String(decoding: $0, as: UTF8.self) }) }
        channel.start()
    }

    deinit {
        channel.onOutputClosed = {}
        channel.onUndelivered = { _ in }
        channel.close()
        close(peerWrite)
        if peerRead >= 0 { close(peerRead) }
    }

    /// The peer goes away: its end of our output closes.
    func peerStopsReading() {
        signal(SIGPIPE, SIG_IGN)
        close(peerRead)
        peerRead = -1
    }

    func peerSends(_ text: String) {
        let bytes = Array(text.utf8)
        precondition(bytes.withUnsafeBytes { write(peerWrite, $0.baseAddress, $0.count) } == bytes.count)
        loop.runPending()
    }

    /// Everything we have written that the peer can read now.
    func peerReceives() -> String {
        loop.runPending()
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(peerRead, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            text += buffer[0..<count]
        }
        return String(decoding: text, as: UTF8.self)
    }
}

@Suite("a pipe channel frames lines losslessly and never blocks on a slow peer")
struct PipeChannelTests {
    @Test("lines arrive as messages; a partial line waits for the rest")
    func framing() {
        let pair = PipePair()
        pair.peerSends("{\"a\":1}\n{\"b\":")
        #expect(pair.messages == ["{\"a\":1}"])
        pair.peerSends("2}\n")
        #expect(pair.messages == ["{\"a\":1}", "{\"b\":2}"])
    }

    @Test("a line over the limit is reported with its length and head, and the next line still arrives")
    func oversizedLines() {
        let pair = PipePair(maxMessageBytes: 64)
        pair.peerSends("{\"id\":7,\"x\":\"" + String(repeating: "y", count: 200) + "\"}\n{\"ok\":true}\n")
        #expect(pair.oversized.count == 1)
        #expect(pair.oversized.first?.0 == 215, "the length without the newline")
        #expect(pair.oversized.first?.1.hasPrefix("{\"id\":7") == true)
        #expect(pair.messages == ["{\"ok\":true}"])
    }

    @Test("end of input delivers a last line without its newline, then reports the end once")
    func endOfInput() {
        let pair = PipePair()
        pair.peerSends("{\"last\":1}")
        #expect(pair.messages.isEmpty)
        close(pair.peerWrite)
        pair.loop.runPending()
        #expect(pair.messages == ["{\"last\":1}"])
        #expect(pair.inputEnds == [.endOfFile])
    }

    @Test("messages sent in one turn go out together, newline-terminated; a flushed close tells once")
    func writesAndFlushedClose() {
        let pair = PipePair()
        #expect(pair.channel.send(Array("one".utf8)) == .queued)
        #expect(pair.channel.send(Array("two".utf8)) == .queued)
        pair.channel.closeOutputAfterFlush()
        #expect(pair.outputClosed == 0, "queued messages are written before the output closes")
        #expect(pair.peerReceives() == "one\ntwo\n")
        #expect(pair.outputClosed == 1)
        #expect(pair.channel.send(Array("late".utf8)) == .closed)
    }

    @Test("a peer that stops reading is reported once the backlog passes the limit; nothing blocks")
    func peerNotReading() {
        let pair = PipePair(maxMessageBytes: 1 << 20, maxQueuedBytes: 256 * 1024)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 128 * 1024)
        var outcomes: [PipeChannel.SendOutcome] = []
        for _ in 0..<64 {
            let outcome = pair.channel.send(chunk)
            outcomes.append(outcome)
            pair.loop.runPending()
            if case .peerNotReading = outcome { break }
        }
        guard case .peerNotReading(let queued)? = outcomes.last else {
            Issue.record("the backlog never hit the limit: \(outcomes)")
            return
        }
        #expect(queued > 256 * 1024)
        #expect(pair.channel.queuedBytes == queued)
    }

    @Test("messages no byte of which reached a vanished peer are handed back in order; one cut mid-way is not")
    func undeliveredMessages() {
        let pair = PipePair(maxMessageBytes: 4 << 20, maxQueuedBytes: 8 << 20)
        let big = String(repeating: "x", count: 3 << 20)
        pair.channel.send(Array(big.utf8))
        pair.channel.send(Array("after the big one".utf8))
        pair.loop.runPending()
        #expect(pair.channel.queuedBytes > 0, "the pipe took only part of the big message")
        pair.peerStopsReading()
        pair.loop.runPending()
        #expect(pair.undelivered == [["after the big one"]])

        let second = PipePair()
        second.peerStopsReading()
        second.channel.send(Array("one".utf8))
        second.channel.send(Array("two".utf8))
        second.loop.runPending()
        #expect(second.undelivered == [["one", "two"]])
        #expect(second.channel.send(Array("three".utf8)) == .closed)

        let third = PipePair()
        third.channel.send(Array("sent, not yet written".utf8))
        third.channel.close()
        #expect(third.undelivered == [["sent, not yet written"]], "closing hands back what was never written")
    }

    @Test("draining a vanished peer's input delivers its complete lines and drops the one it was cut off in")
    func drainInput() {
        let pair = PipePair()
        let bytes = Array("one\ntwo\nhalf of thr".utf8)
        _ = bytes.withUnsafeBytes { write(pair.peerWrite, $0.baseAddress, $0.count) }
        pair.channel.drainInput()
        #expect(pair.messages == ["one", "two"])
        #expect(pair.inputEnds.isEmpty, "not an end the peer chose: nothing reports it")
    }
}
