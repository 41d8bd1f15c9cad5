import IO
import Testing

/// A service that records what the group asks of it and drains when the test says.
final class ScriptedService: Service {
    let serviceName: String
    private let journal: Journal
    var failsToStart = false
    private(set) var isDraining = false
    private var waiters: [() -> Void] = []
    private var drained = false

    final class Journal { var lines: [String] = [] }
    struct StartFailure: Error, CustomStringConvertible { var description: String { "port taken" } }

    init(_ name: String, journal: Journal) {
        serviceName = name
        self.journal = journal
    }

    func start() throws {
        if failsToStart { throw StartFailure() }
        journal.lines.append("start \(serviceName)")
    }

    func beginDrain() {
        journal.lines.append("drain \(serviceName)")
        isDraining = true
    }

    func whenDrained(_ completion: @escaping () -> Void) {
        if drained { completion() } else { waiters.append(completion) }
    }

    func forceStop() {
        journal.lines.append("force \(serviceName)")
        finishDrain()
    }

    func finishDrain() {
        guard !drained else { return }
        drained = true
        journal.lines.append("drained \(serviceName)")
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter() }
    }
}

@Suite("a service group starts in order and drains in reverse, forcing what outlives its grace")
struct ServiceGroupTests {
    let clock = LoopClock.manual()
    let loop: EventLoop
    let journal = ScriptedService.Journal()
    var reports: [String] { reported.lines }
    private let reported = ScriptedService.Journal()

    init() { loop = EventLoop.forTesting(clock: clock) }

    func group(_ names: [String], grace: UInt64? = 5_000_000_000) -> (ServiceGroup, [ScriptedService]) {
        let group = ServiceGroup(loop: loop, forcedGrace: 1_000_000_000) { [reported] in reported.lines.append($0) }
        let services = names.map { ScriptedService($0, journal: journal) }
        for service in services { group.add(service, graceNanoseconds: grace) }
        return (group, services)
    }

    @Test("every member stops taking work at once, last first; each drain is awaited after its dependents'")
    func reverseOrder() throws {
        let (group, services) = group(["admin", "core", "frontend"])
        try group.start()
        var finished = false
        group.shutdown { finished = true }
        #expect(journal.lines == ["start admin", "start core", "start frontend", "drain frontend", "drain core", "drain admin"])
        services[1].finishDrain()
        services[0].finishDrain()
        #expect(!finished, "the frontend has not finished, so nothing before it is awaited yet")
        services[2].finishDrain()
        #expect(finished)
    }

    @Test("a member that outlives its grace is forced, and the group goes on")
    func escalation() throws {
        let (group, services) = group(["core", "frontend"])
        try group.start()
        var finished = false
        group.shutdown { finished = true }
        services[0].finishDrain()
        clock.advance(by: 4_900_000_000)
        loop.runPending()
        #expect(!journal.lines.contains("force frontend"))
        clock.advance(by: 200_000_000)
        loop.runPending()
        #expect(journal.lines.contains("force frontend"))
        #expect(reports == ["frontend did not drain within 5000 ms; forcing it"])
        #expect(finished)
    }

    @Test("a member that fails to start names itself, and those started before it can be drained")
    func startFailure() throws {
        let (group, services) = group(["admin", "core", "frontend"])
        services[1].failsToStart = true
        #expect {
            try group.start()
        } throws: { error in
            "\(error)" == "core could not start: port taken"
        }
        group.shutdown {}
        #expect(journal.lines == ["start admin", "drain admin"])
        #expect(services[2].isDraining == false)
    }

    @Test("shutdown asked twice completes both callers once")
    func shutdownTwice() throws {
        let (group, services) = group(["core"])
        try group.start()
        var calls = 0
        group.shutdown { calls += 1 }
        group.shutdown { calls += 1 }
        services[0].finishDrain()
        #expect(calls == 2)
    }
}
