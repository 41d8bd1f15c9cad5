import Config
import Glibc
import IO
import JSON
import Logging
import Processes
import Testing

@testable import Plugins

/// A worker the test plays: it becomes ready, answers, hangs or dies when told.
final class FakeWorker: PoolWorker {
    private(set) var state = PluginWorker.State.starting
    let pid: Int32
    var residentBytes: Int?
    private(set) var wasRetired = false
    var onReady: (PoolWorker) -> Void = { _ in }
    var onFatal: (PoolWorker, LoadFailure) -> Void = { _, _ in }
    var loadingPlugin: String?
    var onExit: (PoolWorker, ChildProcess.ExitStatus) -> Void = { _, _ in }
    private(set) var calls: [(phase: PluginPhase, input: JSONValue, completion: (Result<JSONValue?, PluginFailure>) -> Void)] = []
    private(set) var signals: [String] = []
    var answersHeartbeats = true

    init(pid: Int32) { self.pid = pid }

    var inFlight: Int { calls.count }
    var stateName: String { "\(state)" }

    func start() {}

    func becomeReady(hooks: Set<PluginPhase> = [.request, .response]) {
        state = .ready(hooks: ["fake": hooks])
        onReady(self)
    }

    func call(_ job: WorkerJob, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        guard case .call(_, let phase, let input) = job else { preconditionFailure("the fake takes calls of one plugin") }
        calls.append((phase, input, completion))
    }

    func answer(_ output: JSONValue?) {
        let call = calls.removeFirst()
        call.completion(.success(output))
    }

    func heartbeat() -> Bool { answersHeartbeats }

    func drain(within grace: UInt64) {
        wasRetired = true
        state = .draining
        signals.append("drain")
    }

    func kill() { signals.append("SIGKILL") }

    func terminate(grace: UInt64) {
        wasRetired = true
        state = .draining
        signals.append("SIGTERM")
    }

    /// The process ended: what it held fails, as a real worker's calls do.
    func exit(_ status: ChildProcess.ExitStatus = .exited(1)) {
        state = .exited("\(status)")
        let held = calls
        calls = []
        for call in held { call.completion(.failure(PluginFailure(plugin: "fake", phase: call.phase, kind: .crashed(status: "\(status)")))) }
        onExit(self, status)
    }
}

@Suite("a plugin pool serves calls from warm workers and replaces the ones that fail")
final class PluginPoolTests {
    let clock = LoopClock.manual()
    let loop: EventLoop
    private(set) var workers: [FakeWorker] = []
    var pool: PluginPool!

    init() {
        loop = EventLoop.forTesting(clock: clock)
    }

    func makePool(_ settings: PluginSettings = PluginSettings(minWorkers: 1, maxWorkers: 2, concurrency: 1, timeout: .seconds(5))) -> PluginPool {
        let output = LogOutput(descriptor: STDERR_FILENO)
        output.configure(level: .error, format: .human)
        let pool = PluginPool(
            plugin: PluginDescriptor(name: "fake", path: "/nowhere/fake.mjs"), settings: PoolSettings(settings, maxMessageBytes: 1 << 20),
            hostScript: "", budget: ExecutionBudget(limit: 64), loop: loop, log: Logger(component: "test", output: output),
            makeWorker: { [unowned self] _ in
                let worker = FakeWorker(pid: Int32(1000 + workers.count))
                workers.append(worker)
                return worker
            })
        self.pool = pool
        pool.start()
        return pool
    }

    func advance(seconds: Double) {
        clock.advance(by: UInt64(seconds * 1e9))
        loop.runPending()
    }

    @Test("a call waits for a worker to be ready, then runs on it")
    func callsWaitForReadiness() throws {
        let pool = makePool()
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: ["x": 1], timeout: nil) { result = $0 }
        #expect(workers[0].calls.isEmpty && pool.readiness == .starting)
        workers[0].becomeReady()
        #expect(workers[0].calls.count == 1)
        workers[0].answer(["continue": true])
        #expect(try result?.get() == ["continue": true])
        #expect(pool.readiness == .serving)
    }

    @Test("when every worker is busy a second one starts, up to max_workers")
    func growsUnderLoad() {
        let pool = makePool()
        workers[0].becomeReady()
        pool.call(phase: .request, input: [:], timeout: nil) { _ in }
        pool.call(phase: .request, input: [:], timeout: nil) { _ in }
        #expect(workers.count == 2, "the second call found the only worker busy")
        workers[1].becomeReady()
        #expect(workers[1].calls.count == 1)
        pool.call(phase: .request, input: [:], timeout: nil) { _ in }
        pool.call(phase: .request, input: [:], timeout: nil) { _ in }
        #expect(workers.count == 2, "never past max_workers")
        #expect(pool.status.queued == 2)
    }

    @Test("a call past its timeout fails as timed out and its worker is terminated")
    func timeouts() {
        let pool = makePool()
        workers[0].becomeReady()
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .response, input: [:], timeout: .seconds(2)) { result = $0 }
        advance(seconds: 1.9)
        #expect(result == nil)
        advance(seconds: 0.2)
        guard case .failure(let failure)? = result, case .timedOut = failure.kind else {
            Issue.record("expected a timeout, got \(String(describing: result))")
            return
        }
        #expect(failure.phase == .response)
        #expect(workers[0].signals == ["SIGTERM"])
    }

    @Test("a worker that dies mid-call fails that call, is counted as a crash, and is replaced")
    func crashesAreReplaced() {
        let pool = makePool()
        workers[0].becomeReady()
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: [:], timeout: nil) { result = $0 }
        workers[0].exit()
        loop.runPending()
        guard case .failure(let failure)? = result, case .crashed = failure.kind else {
            Issue.record("expected a crash, got \(String(describing: result))")
            return
        }
        #expect(workers.count == 2, "a replacement started")
        #expect(pool.status.workerCrashes == 1)
    }

    @Test("a worker that misses a heartbeat is killed")
    func stuckWorkersAreKilled() {
        _ = makePool()
        workers[0].becomeReady()
        workers[0].answersHeartbeats = false
        advance(seconds: 2)
        #expect(workers[0].signals == ["SIGKILL"])
    }

    @Test("a module that cannot load breaks the pool: calls fail at once with the reason")
    func brokenModules() {
        let pool = makePool()
        workers[0].onFatal(workers[0], LoadFailure(reason: "SyntaxError: Unexpected token"))
        #expect(pool.readiness == .broken("SyntaxError: Unexpected token"))
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: [:], timeout: nil) { result = $0 }
        guard case .failure(let failure)? = result, case .unavailable(let reason) = failure.kind else {
            Issue.record("expected the call to fail at once")
            return
        }
        #expect(reason.contains("SyntaxError"))
    }

    @Test("workers that exit before they are ready, three in a row, break the pool; a worker that got ready in between resets the count")
    func workersThatNeverGetReady() {
        let pool = makePool()
        let exitLatest = { (status: ChildProcess.ExitStatus) in
            self.workers[self.workers.count - 1].exit(status)
            self.loop.runPending()  // its replacement starts
        }
        exitLatest(.exited(3))
        exitLatest(.exited(3))
        workers[2].becomeReady()
        exitLatest(.exited(1))
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: [:], timeout: nil) { result = $0 }
        exitLatest(.exited(3))
        exitLatest(.exited(3))
        #expect(pool.readiness == .serving, "two early exits since the last ready worker")
        exitLatest(.exited(3))
        #expect(pool.readiness == .broken("its worker exited before it was ready, 3 times in a row (the last exited with status 3)"))
        guard case .failure(let failure)? = result, case .unavailable = failure.kind else {
            Issue.record("the waiting call should fail as unavailable, got \(String(describing: result))")
            return
        }
    }

    @Test("a worker still loading after 10 s is killed and breaks the pool; calls waiting for it fail as unavailable")
    func workersStuckLoading() {
        let pool = makePool()
        var result: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: [:], timeout: .seconds(60)) { result = $0 }
        advance(seconds: 9.9)
        #expect(pool.readiness == .starting && result == nil)
        advance(seconds: 0.2)
        #expect(workers[0].signals == ["SIGKILL"])
        #expect(pool.readiness == .broken("its worker did not finish loading within 10s"))
        guard case .failure(let failure)? = result, case .unavailable = failure.kind else {
            Issue.record("the waiting call should fail as unavailable, got \(String(describing: result))")
            return
        }
    }

    @Test("a drain fails what waits, lets what runs finish, and completes once every worker has exited")
    func drains() throws {
        let pool = makePool(PluginSettings(minWorkers: 1, maxWorkers: 1, concurrency: 1))
        workers[0].becomeReady()
        var running: Result<JSONValue?, PluginFailure>?
        var queued: Result<JSONValue?, PluginFailure>?
        pool.call(phase: .request, input: [:], timeout: nil) { running = $0 }
        pool.call(phase: .request, input: [:], timeout: nil) { queued = $0 }
        var drained = false
        pool.drain { drained = true }
        guard case .failure? = queued else { Issue.record("the queued call should fail"); return }
        #expect(workers[0].signals == ["drain"])
        workers[0].answer(nil)
        #expect(try running?.get() == nil)
        #expect(!drained)
        workers[0].exit(.exited(0))
        #expect(drained)
    }
}

@Suite("per-plugin figures of pools that plugins share")
struct PluginCallStatusTests {
    static func status(_ plugin: String, calls: Int, failures: [String: Int], count: Int) -> PluginCallStatus {
        PluginCallStatus(
            plugin: plugin, calls: calls, failuresByKind: failures,
            latencyBuckets: LatencyHistogram.boundsSeconds.map { (upperBound: $0, cumulativeCount: count) }, latencySumSeconds: Double(count),
            latencyCount: count)
    }

    @Test("a plugin in two pools is counted once, with both pools' calls, failures and latencies")
    func mergesAcrossPools() {
        let merged = PluginCallStatus.merged([
            Self.status("curate", calls: 3, failures: ["timeout": 1], count: 3), Self.status("audit", calls: 1, failures: [:], count: 1),
            Self.status("curate", calls: 2, failures: ["timeout": 1, "thrown": 1], count: 2),
        ])
        #expect(merged.map(\.plugin) == ["audit", "curate"])
        #expect(merged[1].calls == 5)
        #expect(merged[1].failuresByKind == ["timeout": 2, "thrown": 1])
        #expect(merged[1].latencyCount == 5 && merged[1].latencyBuckets.allSatisfy { $0.cumulativeCount == 5 })
    }

    @Test("a shared pool counts each member's turns; a pool of one reports its plugin in its own figures")
    func memberFigures() {
        let loop = EventLoop.forTesting(clock: LoopClock.manual())
        let log = Logger(component: "test", output: LogOutput(descriptor: STDERR_FILENO))
        let settings = PoolSettings(PluginSettings(), maxMessageBytes: 1 << 20)
        let shared = PluginPool(
            members: [PluginDescriptor(name: "a", path: "/x/a.mjs"), PluginDescriptor(name: "b", path: "/x/b.mjs")], settings: settings,
            hostScript: "", budget: ExecutionBudget(limit: 1), loop: loop, log: log, makeWorker: { _ in FakeWorker(pid: 1) })
        shared.recordMember("b", nanoseconds: 1_000_000, failure: nil)
        shared.recordMember("b", nanoseconds: nil, failure: .noHook)
        #expect(shared.status.callsByPlugin.map(\.plugin) == ["a", "b"])
        #expect(shared.status.callsByPlugin[1].calls == 2 && shared.status.callsByPlugin[1].failuresByKind == ["no_hook": 1])
        #expect(shared.status.json["plugins"]?["b"]?["calls"] == 2)
        let single = PluginPool(
            plugin: PluginDescriptor(name: "c", path: "/x/c.mjs"), settings: settings, hostScript: "", budget: ExecutionBudget(limit: 1),
            loop: loop, log: log)
        #expect(single.status.callsByPlugin.map(\.plugin) == ["c"])
        #expect(single.status.json["plugins"] == nil)
    }
}
