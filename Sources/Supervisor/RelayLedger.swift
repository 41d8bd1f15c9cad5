import JSON
import JSONRPC

/// What the outer process knows of the stdio client's conversation with the core it relays:
/// the requests the core has not answered yet, and the client's `initialize`. A core that dies
/// then costs the client an error for each call in flight, never its session: the next core
/// is initialized with the same request, and the client goes on.
struct RelayLedger {
    /// Requests sent to the core and not answered, by their id's JSON text: their methods.
    private(set) var outstanding: [[UInt8]: String] = [:]
    /// The client's `initialize`, as it sent it.
    private(set) var initialize: [UInt8]?
    private(set) var sawInitialized = false
    private var initializeID: [UInt8]?

    /// A line from the client, on its way to the core.
    mutating func clientSent(_ line: [UInt8]) {
        if line.first(where: { !Self.isSpace($0) }) == UInt8(ascii: "[") {
            for member in (try? JSONParser.parse(line))?.arrayValue ?? [] { clientSent(member.serialized()) }
            return
        }
        guard let envelope = try? JSONRPCEnvelope.scan(line) else { return }
        switch envelope.kind {
        case .request:
            guard let range = envelope.idRange else { return }
            let method = envelope.method ?? ""
            outstanding[Array(line[range])] = method
            if method == "initialize", initialize == nil {
                initialize = line
                initializeID = Array(line[range])
            }
        case .notification:
            switch envelope.method {
            case "notifications/initialized": sawInitialized = true
            case "notifications/cancelled":
                // By the spec a cancelled request is never answered.
                if let id = (try? JSONParser.parse(line))?["params"]?["requestId"] { outstanding[id.serialized()] = nil }
            default: break
            }
        case .successResponse, .errorResponse:
            break
        }
    }

    /// A line that never reached the core after all (its pipe had closed): what it asked is not
    /// owed by the core, and the line goes to the next one.
    mutating func withdraw(_ line: [UInt8]) {
        if line.first(where: { !Self.isSpace($0) }) == UInt8(ascii: "[") {
            for member in (try? JSONParser.parse(line))?.arrayValue ?? [] { withdraw(member.serialized()) }
            return
        }
        guard let envelope = try? JSONRPCEnvelope.scan(line), envelope.kind == .request, let range = envelope.idRange else { return }
        outstanding[Array(line[range])] = nil
    }

    /// A line from the core, on its way to the client: the request it answers is settled.
    mutating func coreSent(_ line: [UInt8]) {
        guard !outstanding.isEmpty else { return }
        switch Self.answeredID(in: line) {
        case .one(let id): outstanding[id] = nil
        case .batch(let ids): for id in ids { outstanding[id] = nil }
        case .none: break
        }
    }

    /// The core is gone: an error for each request it left unanswered, which are forgotten.
    mutating func failOutstanding(because cause: String) -> [[UInt8]] {
        defer { outstanding = [:] }
        // An `initialize` the core never answered is answered with an error: the client
        // initializes again itself, and it must not be replayed.
        if let initializeID, outstanding[initializeID] != nil {
            initialize = nil
            self.initializeID = nil
            sawInitialized = false
        }
        return outstanding.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { id, method in
            JSONRPCMessage.error(
                idText: id, code: JSONRPCErrorCode.internalError,
                message: "plugboard's core stopped while serving \(method) (\(cause)); a new core serves the next calls. This call may or may not have taken effect.")
        }
    }

    enum Answered: Equatable {
        case none
        case one([UInt8])
        case batch([[UInt8]])
    }

    /// The id a response carries, found without reading the rest of it when it starts as the
    /// core writes its answers (`{"jsonrpc":"2.0","id":…,"result"` or `,"error"`); requests
    /// from the core to the client (`,"method"`) answer nothing.
    static func answeredID(in line: [UInt8]) -> Answered {
        if line.starts(with: responsePrefix), let (id, end) = idToken(in: line, from: responsePrefix.count) {
            let rest = line[end...]
            if rest.starts(with: resultKey) || rest.starts(with: errorKey) { return .one(id) }
            if rest.starts(with: methodKey) { return .none }
        }
        if line.first(where: { !isSpace($0) }) == UInt8(ascii: "[") {
            let members = (try? JSONParser.parse(line))?.arrayValue ?? []
            return .batch(members.compactMap { $0["method"] == nil ? $0["id"]?.serialized() : nil })
        }
        guard let envelope = try? JSONRPCEnvelope.scan(line), let range = envelope.idRange else { return .none }
        switch envelope.kind {
        case .successResponse, .errorResponse: return .one(Array(line[range]))
        case .request, .notification: return .none
        }
    }

    private static let responsePrefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let resultKey = Array(#","result""#.utf8)
    private static let errorKey = Array(#","error""#.utf8)
    private static let methodKey = Array(#","method""#.utf8)

    /// The id's JSON text starting at `start` (a string with its quotes, a number, or null),
    /// and where it ends.
    private static func idToken(in line: [UInt8], from start: Int) -> ([UInt8], Int)? {
        guard start < line.count else { return nil }
        var index = start
        if line[index] == UInt8(ascii: "\"") {
            index += 1
            while index < line.count {
                switch line[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""): return (Array(line[start...index]), index + 1)
                default: index += 1
                }
            }
            return nil
        }
        while index < line.count, line[index] != UInt8(ascii: ","), line[index] != UInt8(ascii: "}") { index += 1 }
        return index > start ? (Array(line[start..<index]), index) : nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}
