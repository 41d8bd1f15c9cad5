// libFuzzer entry point for the HTTP module's parsers. Build and run: see Fuzz/README.md.
#if canImport(HTTP)
import HTTP
#endif

/// Small limits, so the limit paths are reached with short inputs.
private let limits = HTTPLimits(maxHeaderBytes: 512, maxHeaderCount: 16, maxTargetBytes: 128, maxBodyBytes: 1024)

/// Feeds `input` to the request, response and SSE parsers whole and split in two (at a
/// position taken from the first byte), and traps if the split changes what comes out.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let split = input.isEmpty ? 0 : Int(input[0]) * input.count / 256
    let pieces = [Array(input[..<split]), Array(input[split...])]

    let whole = RequestOutcome(feeding: [input])
    guard RequestOutcome(feeding: pieces) == whole else { fatalError("request parser: split at \(split) changed the outcome") }
    if input.count <= 512, RequestOutcome(feeding: input.map { [$0] }) != whole {
        fatalError("request parser: byte-at-a-time feeding changed the outcome")
    }
    guard ResponseOutcome(feeding: [input]) == ResponseOutcome(feeding: pieces) else {
        fatalError("response parser: split at \(split) changed the outcome")
    }
    guard SSEOutcome(feeding: [input]) == SSEOutcome(feeding: pieces) else {
        fatalError("SSE parser: split at \(split) changed the events")
    }
    return 0
}

/// The requests parsed, then the error that stopped parsing if any.
private struct RequestOutcome: Equatable {
    var requests: [HTTPRequest] = []
    var error: HTTPParseError?

    init(feeding pieces: [[UInt8]]) {
        var parser = HTTPRequestParser(limits: limits)
        for piece in pieces {
            parser.append(piece)
            do {
                while let request = try parser.next() {
                    guard request.body.count <= limits.maxBodyBytes else { fatalError("request body over the limit") }
                    requests.append(request)
                }
            } catch {
                guard (try? parser.next()) == nil else { fatalError("a dead parser returned a request") }
                self.error = error
                return
            }
            // Waiting for more, it holds at most a partial head line, chunk size line or body.
            guard parser.bufferedByteCount <= max(limits.maxHeaderBytes, limits.maxBodyBytes, 4096) else {
                fatalError("the request parser holds more than its limits allow")
            }
        }
    }
}

/// Heads, body bytes (joined, however they were delivered) and ends; or, when parsing
/// failed, only the error: events before it in the same call are dropped with it, so which
/// of them were delivered depends on how the bytes were split.
private struct ResponseOutcome: Equatable {
    var events: [HTTPResponseEvent] = []
    var error: HTTPParseError?

    static func == (lhs: ResponseOutcome, rhs: ResponseOutcome) -> Bool {
        lhs.error == rhs.error && (lhs.error != nil || lhs.events == rhs.events)
    }

    init(feeding pieces: [[UInt8]]) {
        var parser = HTTPResponseParser(limits: limits)
        for method in ["GET", "HEAD", "POST", "GET"] { parser.expectResponse(toMethod: method) }
        do {
            for piece in pieces {
                parser.append(piece)
                note(try parser.nextEvents())
            }
            note(try parser.connectionClosed())
        } catch {
            self.error = error
        }
    }

    private mutating func note(_ newEvents: [HTTPResponseEvent]) {
        for event in newEvents {
            if case .body(let bytes) = event, case .body(let earlier)? = events.last {
                events[events.count - 1] = .body(earlier + bytes)
            } else {
                events.append(event)
            }
        }
    }
}

/// The events dispatched and the last event id.
private struct SSEOutcome: Equatable {
    var events: [SSEEvent] = []
    var lastEventID: String?

    init(feeding pieces: [[UInt8]]) {
        var parser = SSEParser(maxEventBytes: 64)
        for piece in pieces + [[]] {
            if let dispatched = try? parser.append(piece) { events += dispatched }
        }
        lastEventID = parser.lastEventID
    }
}
