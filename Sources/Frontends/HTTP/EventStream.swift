import IO
import Network

/// One SSE stream of an HTTP session: the events it carried, numbered, with a bounded replay
/// buffer so a client whose connection dropped can resume with `Last-Event-ID`.
///
/// The stream outlives its HTTP connections: events keep arriving while it is detached and go
/// out when a connection attaches again.
final class EventStream {
    /// Numbers streams within a session; event ids are `<stream>-<sequence>`.
    let number: Int
    private let capacity: Int
    private var buffer: [(sequence: Int, bytes: [UInt8])] = []
    private var nextSequence = 1
    /// The highest sequence written to some connection.
    private var deliveredThrough = 0
    private(set) var exchange: HTTPExchange?
    /// The stream's last event (the response) is in; the HTTP stream ends after it is written.
    private(set) var isComplete = false
    private(set) var lastActivity = EventLoop.now()

    init(number: Int, capacity: Int) {
        self.number = number
        self.capacity = max(1, capacity)
    }

    var isAttached: Bool { exchange != nil }
    var hasUndelivered: Bool { nextSequence - 1 > deliveredThrough }

    /// Appends one JSON-RPC message as an event and writes it if a connection is attached.
    func append(message: [UInt8], completing: Bool = false) {
        let sequence = nextSequence
        nextSequence += 1
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.count + 40)
        bytes.append(contentsOf: "id: \(number)-\(sequence)\nevent: message\ndata: ".utf8)
        bytes.append(contentsOf: message)
        bytes.append(contentsOf: [0x0A, 0x0A])
        buffer.append((sequence, bytes))
        if buffer.count > capacity { buffer.removeFirst(buffer.count - capacity) }
        if completing { isComplete = true }
        lastActivity = EventLoop.now()
        if let exchange {
            exchange.send(bytes)
            deliveredThrough = sequence
            if isComplete { finishExchange() }
        }
    }

    /// Attaches a connection and writes what it has not seen: events after `lastSeen`, or
    /// (when nil) the events no connection has carried yet.
    /// Returns false when events the client needs have already left the replay buffer.
    /// With `priming`, the stream starts with an event that has an id and no data, and a
    /// `retry:` delay: what 2025-11-25 recommends so a client can resume a stream that has
    /// carried nothing yet.
    func attach(_ newExchange: HTTPExchange, after lastSeen: Int?, priming: Bool = false) -> Bool {
        let from = lastSeen ?? deliveredThrough
        if let oldest = buffer.first?.sequence, from + 1 < oldest, nextSequence > from + 1 { return false }
        exchange?.endStream()
        exchange = newExchange
        lastActivity = EventLoop.now()
        if priming { newExchange.send(Array("id: \(number)-\(from)\nretry: \(Self.retryMilliseconds)\ndata: \n\n".utf8)) }
        for event in buffer where event.sequence > from {
            newExchange.send(event.bytes)
            deliveredThrough = max(deliveredThrough, event.sequence)
        }
        if isComplete { finishExchange() }
        return true
    }

    /// The connection went away; events buffer until another attaches.
    func detach(_ gone: HTTPExchange) {
        guard exchange === gone else { return }
        exchange = nil
    }

    /// An SSE comment, so intermediaries and clients see the stream is alive.
    func sendKeepAlive() {
        exchange?.send(Array(": keep-alive\n\n".utf8))
    }

    func finishExchange() {
        exchange?.endStream()
        exchange = nil
    }

    /// How long a client should wait before reconnecting a dropped stream.
    static let retryMilliseconds = 1000

    /// Parses `<stream>-<sequence>` event ids.
    static func parse(eventID: String) -> (stream: Int, sequence: Int)? {
        let parts = eventID.split(separator: "-")
        guard parts.count == 2, let stream = Int(parts[0]), let sequence = Int(parts[1]), stream >= 0, sequence >= 0 else { return nil }
        return (stream, sequence)
    }
}
