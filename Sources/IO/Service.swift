/// A long-lived part of plugboard (a frontend, the core, an upstream connection, a plugin pool,
/// the watcher, the admin endpoints): started once, drained once. Loop-confined.
///
/// Draining is two steps, so that a group can stop everything taking new work at once and then
/// wait for each part in turn: `beginDrain()` returns at once; `whenDrained` runs when nothing is
/// left, reported by the part itself, never polled for.
public protocol Service: AnyObject {
    /// What the log calls it.
    var serviceName: String { get }
    func start() throws
    /// Stops taking new work; what is under way goes on. Idempotent.
    func beginDrain()
    /// Runs `completion` once, on the loop, when the drain has finished (at once if it has).
    func whenDrained(_ completion: @escaping () -> Void)
    /// The drain outlived its grace: end now, answering what is left with errors.
    func forceStop()
}

/// Services started in order and drained in reverse, each given a grace before it is forced:
/// the shape of swift-service-lifecycle's ServiceGroup, on the event loop.
///
/// On `shutdown`, every member stops taking new work at once (last first); then the group waits
/// for each member's drain in reverse order. A member still draining when its grace runs out is
/// logged and forced, and the group waits `forcedGrace` more before it moves on regardless.
public final class ServiceGroup {
    public struct Member {
        let service: Service
        /// How long its drain may take once the members after it have finished; nil: unbounded.
        let grace: UInt64?
    }

    private enum Phase { case idle, running, draining, drained }

    private let loop: EventLoop
    private let forcedGrace: UInt64
    private let report: (String) -> Void
    private var members: [Member] = []
    private var phase = Phase.idle
    private var completions: [() -> Void] = []

    /// `report` gets one line per member that had to be forced.
    public init(loop: EventLoop, forcedGrace: UInt64 = 1_000_000_000, report: @escaping (String) -> Void) {
        self.loop = loop
        self.forcedGrace = forcedGrace
        self.report = report
    }

    /// Adds a member after those already added: started after them, drained before them.
    public func add(_ service: Service, graceNanoseconds: UInt64?) {
        precondition(phase == .idle, "members are added before the group starts")
        members.append(Member(service: service, grace: graceNanoseconds))
    }

    public var serviceNames: [String] { members.map(\.service.serviceName) }

    /// Starts every member in order. When one fails, those already started are drained and
    /// the error, naming the member, is thrown.
    public func start() throws(ServiceStartError) {
        loop.assertInLoop()
        guard phase == .idle else { return }
        phase = .running
        for (index, member) in members.enumerated() {
            do {
                try member.service.start()
            } catch {
                members = Array(members[..<index])
                throw ServiceStartError(service: member.service.serviceName, underlying: error)
            }
        }
    }

    /// Adds a member that its owner has started already.
    public func addStarted(_ service: Service, graceNanoseconds: UInt64?) {
        members.append(Member(service: service, grace: graceNanoseconds))
    }

    /// Drains every member; `completion` runs once the last (the first added) has finished.
    public func shutdown(completion: @escaping () -> Void) {
        loop.assertInLoop()
        switch phase {
        case .drained: return completion()
        case .draining: return completions.append(completion)
        case .idle, .running: break
        }
        phase = .draining
        completions.append(completion)
        let reversed = Array(members.reversed())
        for member in reversed { member.service.beginDrain() }
        awaitDrain(of: reversed[...])
    }

    /// Forces every member still draining, last first.
    public func forceStop() {
        for member in members.reversed() { member.service.forceStop() }
    }

    private func awaitDrain(of remaining: ArraySlice<Member>) {
        guard let member = remaining.first else {
            phase = .drained
            for completion in completions.takeAll() { completion() }
            return
        }
        var finished = false
        var timer: EventLoop.TimerID?
        let next = { [weak self] in
            guard !finished else { return }
            finished = true
            if let timer { self?.loop.cancelTimer(timer) }
            self?.awaitDrain(of: remaining.dropFirst())
        }
        if let grace = member.grace {
            timer = loop.schedule(afterNanoseconds: grace) { [weak self] in
                guard let self, !finished else { return }
                self.report("\(member.service.serviceName) did not drain within \(grace / 1_000_000) ms; forcing it")
                member.service.forceStop()
                timer = self.loop.schedule(afterNanoseconds: self.forcedGrace) { [weak self] in
                    guard !finished else { return }
                    self?.report("\(member.service.serviceName) did not stop after being forced; moving on")
                    next()
                }
            }
        }
        member.service.whenDrained(next)
    }
}

/// A member of a `ServiceGroup` could not start.
public struct ServiceStartError: Error, CustomStringConvertible {
    public let service: String
    public let underlying: any Error
    public var description: String { "\(service) could not start: \(underlying)" }
}
