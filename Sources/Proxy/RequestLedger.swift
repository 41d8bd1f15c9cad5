/// The fate of every request one client sends, from its arrival to its one ending.
///
/// A request is open from `receive` until exactly one of `answer`, `cancel` or `abandon` ends
/// it; a request arriving under an id that is still open ends at once, as a duplicate. The
/// status dump's accounting is read off these transitions and nothing else, so
/// `received == open + answeredOK + answeredError + cancelled + abandoned + duplicate` holds
/// by construction.
struct RequestLedger {
    /// How the requests that ended, ended.
    struct Tally: Equatable, Sendable {
        var answeredOK = 0
        var answeredError = 0
        /// The client cancelled them (`notifications/cancelled`): by the spec, never answered.
        var cancelled = 0
        /// The client left, or its listen stream closed, before they were answered.
        var abandoned = 0
        /// Refused at arrival: their id was already open.
        var duplicate = 0

        var ended: Int { answeredOK + answeredError + cancelled + abandoned + duplicate }

        static func + (lhs: Tally, rhs: Tally) -> Tally {
            Tally(
                answeredOK: lhs.answeredOK + rhs.answeredOK, answeredError: lhs.answeredError + rhs.answeredError,
                cancelled: lhs.cancelled + rhs.cancelled, abandoned: lhs.abandoned + rhs.abandoned,
                duplicate: lhs.duplicate + rhs.duplicate)
        }
    }

    enum Admission: Equatable {
        case opened
        /// The id is open already; the request ended as a duplicate.
        case duplicate
    }

    /// A request that was just answered: what `RequestMetrics` records of it.
    struct Answered: Equatable {
        let method: String
        let nanoseconds: UInt64
        let isError: Bool
    }

    private var open: [[UInt8]: (method: String, receivedAt: UInt64)] = [:]
    private(set) var tally = Tally()

    var openCount: Int { open.count }
    var received: Int { open.count + tally.ended }

    func isOpen(_ id: [UInt8]) -> Bool { open[id] != nil }

    mutating func receive(_ id: [UInt8], method: String, at now: UInt64) -> Admission {
        guard open[id] == nil else {
            tally.duplicate += 1
            return .duplicate
        }
        open[id] = (method, now)
        return .opened
    }

    /// Ends an open request as answered; nil when `id` is not open (answered already, or never
    /// received: a duplicate's refusal).
    mutating func answer(_ id: [UInt8], isError: Bool, at now: UInt64) -> Answered? {
        guard let request = open.removeValue(forKey: id) else { return nil }
        if isError { tally.answeredError += 1 } else { tally.answeredOK += 1 }
        return Answered(method: request.method, nanoseconds: now >= request.receivedAt ? now - request.receivedAt : 0, isError: isError)
    }

    @discardableResult
    mutating func cancel(_ id: [UInt8]) -> Bool {
        guard open.removeValue(forKey: id) != nil else { return false }
        tally.cancelled += 1
        return true
    }

    @discardableResult
    mutating func abandon(_ id: [UInt8]) -> Bool {
        guard open.removeValue(forKey: id) != nil else { return false }
        tally.abandoned += 1
        return true
    }

    /// The client is gone: every open request ends as abandoned. Returns how many did.
    @discardableResult
    mutating func abandonAll() -> Int {
        let count = open.count
        tally.abandoned += count
        open = [:]
        return count
    }
}
