import IO
import JSONRPC
import Network
import Proxy

/// A client request waiting for its answer, and where that answer goes: the POST that carried
/// it (as plain JSON while nothing else was sent), or the SSE stream it became.
final class PendingAnswer {
    let id: JSONRPCID
    let method: String
    let progressToken: [UInt8]?
    let startedAt = EventLoop.now()
    var exchange: HTTPExchange?
    var stream: EventStream?

    init(id: JSONRPCID, method: String, progressToken: [UInt8]?, exchange: HTTPExchange) {
        self.id = id
        self.method = method
        self.progressToken = progressToken
        self.exchange = exchange
    }
}

/// One MCP session over Streamable HTTP: its proxy-core session, the requests it is owed
/// answers for, and its SSE streams (stream 0 is the GET stream for server-initiated messages).
final class HTTPSession {
    let id: String
    let client: ClientSession
    let standalone: EventStream
    var pending: [JSONRPCID: PendingAnswer] = [:]
    /// The order requests arrived in, newest last: server requests go to the newest one's stream.
    var pendingOrder: [JSONRPCID] = []
    /// Streams that may still be resumed, by number.
    private(set) var streams: [Int: EventStream] = [:]
    private var nextStreamNumber = 1
    private let replayCapacity: Int
    var lastActivity = EventLoop.now()
    /// The protocol version the client asked for in `initialize`.
    var protocolVersion: String?

    /// Whether the client's revision (2025-11-25 and later) knows SSE priming events; older
    /// clients may take an event without data for a malformed message.
    var wantsPrimingEvents: Bool { (protocolVersion ?? "") >= "2025-11-25" }

    init(id: String, client: ClientSession, replayCapacity: Int) {
        self.id = id
        self.client = client
        self.replayCapacity = replayCapacity
        self.standalone = EventStream(number: 0, capacity: replayCapacity)
        streams[0] = standalone
    }

    func register(_ answer: PendingAnswer) {
        pending[answer.id] = answer
        pendingOrder.append(answer.id)
    }

    func take(_ id: JSONRPCID) -> PendingAnswer? {
        guard let answer = pending.removeValue(forKey: id) else { return nil }
        if let index = pendingOrder.lastIndex(of: id) { pendingOrder.remove(at: index) }
        return answer
    }

    /// The newest request whose client is still connected to hear about it.
    var newestReachablePending: PendingAnswer? {
        for id in pendingOrder.reversed() {
            guard let answer = pending[id] else { continue }
            if answer.stream?.isAttached ?? (answer.exchange.map { !$0.isFinished } ?? false) { return answer }
        }
        return nil
    }

    func answer(forProgressToken token: [UInt8]) -> PendingAnswer? {
        pending.values.first { $0.progressToken == token }
    }

    /// A new numbered stream; finished streams beyond the replay window are forgotten.
    func openStream() -> EventStream {
        let stream = EventStream(number: nextStreamNumber, capacity: replayCapacity)
        streams[nextStreamNumber] = stream
        nextStreamNumber += 1
        let finished = streams.values.filter { $0.isComplete && !$0.isAttached }.sorted { $0.number < $1.number }
        for old in finished.dropLast(16) { streams[old.number] = nil }
        return stream
    }

    func stream(numbered number: Int) -> EventStream? { streams[number] }

    var allStreams: Dictionary<Int, EventStream>.Values { streams.values }
}
