import Config
import Glibc
import IO
import JSON
import Logging
import Processes

/// What a pool needs to know about running its workers.
public struct PoolSettings: Sendable, Equatable {
    public var plugins: PluginSettings
    public var maxMessageBytes: Int

    public init(_ settings: PluginSettings, maxMessageBytes: Int) {
        plugins = settings
        self.maxMessageBytes = maxMessageBytes
    }
}

/// The cap on plugin calls running at once across every pool (`max_concurrent_calls`).
final class ExecutionBudget {
    let limit: Int
    private(set) var running = 0
    /// Pools to poke when a slot frees up.
    var onRelease: [() -> Void] = []

    init(limit: Int) { self.limit = limit }

    var hasRoom: Bool { running < limit }
    func take() { running += 1 }
    func release() {
        running -= 1
        for poke in onRelease { poke() }
    }
}

/// The warm workers of one plugin, or of the plugins of a chain (each worker loads them all):
/// calls go to the least busy ready worker, wait (bounded) while
/// all are busy or starting, and fail, never hang, when the plugin cannot run. The pool grows to
/// `max_workers` under load and replaces crashed, stuck, bloated, old or worn-out workers.
/// Loop-confined.
final class PluginPool {
    private enum Health: Equatable {
        case starting
        case serving
        /// The module does not load; calls fail at once until a retry succeeds.
        case broken(reason: String)
        case draining
    }

    /// A call from the moment it is asked until it is answered, times out, or fails.
    private final class Ticket {
        let job: WorkerJob
        let timeout: TimeSpan
        let deadline: UInt64
        let enqueuedAt: UInt64
        private var completion: ((Result<JSONValue?, PluginFailure>) -> Void)?
        var worker: PoolWorker?

        init(job: WorkerJob, timeout: TimeSpan, now: UInt64, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
            self.job = job
            self.timeout = timeout
            self.enqueuedAt = now
            self.deadline = enqueuedAt + timeout.nanoseconds
            self.completion = completion
        }

        var isFinished: Bool { completion == nil }
        var phase: PluginPhase { job.phase }

        func fail(_ kind: PluginFailure.Kind) {
            finish(.failure(PluginFailure(plugin: job.culprit, phase: job.phase, kind: kind)))
        }

        func finish(_ result: Result<JSONValue?, PluginFailure>) {
            let completion = self.completion
            self.completion = nil
            completion?(result)
        }
    }

    /// Bookkeeping per worker that the worker itself does not need.
    private struct WorkerRecord {
        let worker: PoolWorker
        let startedAt: UInt64
        var callsServed = 0
        var becameReady = false
    }

    /// Workers that exit before they are ready, one after another, say the plugins cannot be
    /// loaded as surely as a load error does (a module calling process.exit as it loads).
    static let earlyExitLimit = 3
    private var earlyExits = 0
    /// A worker not ready this long after it started is stuck loading (a top-level await that
    /// never settles, a loop at module level): it is killed and the pool is broken.
    static let loadTimeout: UInt64 = 10_000_000_000

    /// The plugins every worker loads, in their order; one, unless chains share the pool.
    let members: [PluginDescriptor]
    /// The member names joined by "+": the pool's name in logs, status and metrics.
    let name: String
    private let settings: PluginSettings
    private let poolSettings: PoolSettings
    private let hostScript: String
    private let budget: ExecutionBudget
    private let loop: EventLoop
    private let log: Logger
    private var health = Health.starting {
        didSet { if health != oldValue { onReadinessChange?() } }
    }
    /// Called when `readiness` may have changed: what a reload's canary check waits on.
    var onReadinessChange: (() -> Void)?
    /// Why the pool is broken, when a worker could not load its plugins.
    private(set) var loadFailure: LoadFailure?
    /// In a shared pool that is broken, the member whose module could not be loaded, if the
    /// worker could tell.
    var unloadableMember: String? { loadFailure?.plugin }
    private var records: [ObjectIdentifier: WorkerRecord] = [:]
    private var waiting: [Ticket] = []
    private var running: [ObjectIdentifier: Ticket] = [:]
    private var restartDelayMs: Int64 = 250
    private var heartbeatTimer: EventLoop.TimerID?
    private var sweepTimer: EventLoop.TimerID?
    private var drainCompletions: [() -> Void] = []
    /// Makes each worker; tests hand in fakes.
    private let makeWorker: (([PluginDescriptor]) throws -> PoolWorker)?
    /// The pool's jobs: for a pool of one plugin, that plugin's calls.
    private(set) var metrics = PluginMetrics()
    /// Per member, when there are several: each plugin's turns, whether run alone or in a fused run.
    private(set) var memberMetrics: [String: PluginMetrics] = [:]

    convenience init(
        plugin: PluginDescriptor, settings: PoolSettings, hostScript: String, budget: ExecutionBudget, loop: EventLoop, log: Logger,
        fingerprint: String = "", makeWorker: (([PluginDescriptor]) throws -> PoolWorker)? = nil
    ) {
        self.init(
            members: [plugin], settings: settings, hostScript: hostScript, budget: budget, loop: loop, log: log, fingerprint: fingerprint,
            makeWorker: makeWorker)
    }

    init(
        members: [PluginDescriptor], settings: PoolSettings, hostScript: String, budget: ExecutionBudget, loop: EventLoop, log: Logger,
        fingerprint: String = "", makeWorker: (([PluginDescriptor]) throws -> PoolWorker)? = nil
    ) {
        precondition(!members.isEmpty, "a pool runs at least one plugin")
        self.makeWorker = makeWorker
        self.fingerprint = fingerprint
        self.members = members
        self.name = Self.name(of: members.map(\.name))
        self.settings = settings.plugins
        self.poolSettings = settings
        self.hostScript = hostScript
        self.budget = budget
        self.loop = loop
        self.log = log.tagged("plugin:\(name)")
    }

    /// A pool's name: its plugins' names joined by "+".
    static func name(of plugins: [String]) -> String { plugins.joined(separator: "+") }

    var isShared: Bool { members.count > 1 }

    func holds(_ plugin: String) -> Bool { members.contains { $0.name == plugin } }

    private var workers: [PoolWorker] { records.values.map(\.worker).sorted { $0.pid < $1.pid } }

    func start() {
        budget.onRelease.append { [weak self] in self?.dispatchWaiting() }
        for _ in 0..<max(settings.minWorkers, 1) { spawnWorker() }
        scheduleHeartbeat()
    }

    // MARK: Calls

    /// A call of the pool's first (in a pool of one, its only) plugin.
    func call(
        phase: PluginPhase, input: JSONValue, timeout: TimeSpan?, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void
    ) {
        submit(.call(plugin: members[0].name, phase: phase, input: input), timeout: timeout, completion: completion)
    }

    func submit(_ job: WorkerJob, timeout: TimeSpan?, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        metrics.calls += 1
        let phase = job.phase
        let fail = { [weak self] (kind: PluginFailure.Kind) in
            let failure = PluginFailure(plugin: job.culprit, phase: phase, kind: kind)
            if case .call(let plugin, _, _) = job { self?.recordMember(plugin, nanoseconds: nil, failure: failure.kind) }
            completion(.failure(failure))
        }
        switch health {
        case .broken(let reason):
            metrics.recordFailure(.unavailable(reason: reason))
            return fail(.unavailable(reason: reason))
        case .draining:
            return fail(.unavailable(reason: "plugboard is shutting down"))
        case .starting, .serving:
            break
        }
        guard waiting.count < settings.maxQueue else {
            let reason = "\(waiting.count) calls already wait for a worker ([plugins] max_queue)"
            metrics.recordFailure(.unavailable(reason: reason))
            return fail(.unavailable(reason: reason))
        }
        let enqueuedAt = loop.now()
        let ticket = Ticket(job: job, timeout: timeout ?? settings.timeout, now: enqueuedAt) { [weak self] result in
            guard let self else { return completion(result) }
            if case .failure(let failure) = result { self.metrics.recordFailure(failure.kind) }
            if case .call(let plugin, _, _) = job {
                self.recordMember(plugin, nanoseconds: self.loop.now() - enqueuedAt, failure: result.failureKind)
            }
            completion(result)
        }
        waiting.append(ticket)
        dispatchWaiting()
        growIfBacklogged()
        armSweep()
    }

    private func dispatchWaiting() {
        while let ticket = waiting.first, budget.hasRoom {
            guard let worker = leastBusyWorker() else { return }
            waiting.removeFirst()
            run(ticket, on: worker)
        }
    }

    /// The ready worker with room that holds the fewest calls (the oldest pid among equals).
    private func leastBusyWorker() -> PoolWorker? {
        records.values.lazy.map(\.worker)
            .filter { if case .ready = $0.state { $0.inFlight < self.settings.concurrency } else { false } }
            .min { ($0.inFlight, $0.pid) < ($1.inFlight, $1.pid) }
    }

    private func run(_ ticket: Ticket, on worker: PoolWorker) {
        if case .ready(let hooks) = worker.state, case .call(let plugin, let phase, _) = ticket.job, hooks[plugin]?.contains(phase) != true {
            ticket.fail(.noHook)
            return
        }
        ticket.worker = worker
        running[ObjectIdentifier(ticket)] = ticket
        records[ObjectIdentifier(worker)]?.callsServed += 1
        budget.take()
        worker.call(ticket.job) { [weak self] result in
            guard let self else { return }
            if self.running.removeValue(forKey: ObjectIdentifier(ticket)) != nil {
                self.metrics.latency.record(nanoseconds: loop.now() - ticket.enqueuedAt)
                ticket.finish(result)
                self.budget.release()
            }
            if case .run = ticket.job, let ran = try? result.get(), FusedRun.timedOut(ran) {
                // As when a call of its own times out: the step may still hold the worker.
                self.log.warning("a step of a fused run timed out; replacing the worker", ["pid": "\(worker.pid)"])
                worker.terminate(grace: self.settings.drainTimeout.nanoseconds)
            }
            self.recycleIfWornOut(worker)
            self.finishDrainIfIdle()
        }
    }

    // MARK: Workers

    private func spawnWorker() {
        let worker: PoolWorker
        do {
            worker = try makeWorker?(members) ?? PluginWorker(plugins: members, hostScript: hostScript, settings: poolSettings, loop: loop, log: log)
        } catch {
            markBroken(LoadFailure(reason: "cannot start a worker: \(error)"))
            return
        }
        worker.onReady = { [weak self] worker in
            guard let self else { return }
            self.records[ObjectIdentifier(worker)]?.becameReady = true
            self.earlyExits = 0
            if self.health == .starting || self.isBroken { self.health = .serving }
            self.restartDelayMs = 250
            self.dispatchWaiting()
        }
        worker.onFatal = { [weak self] _, failure in self?.markBroken(failure) }
        worker.onExit = { [weak self] worker, status in self?.workerExited(worker, status: status) }
        records[ObjectIdentifier(worker)] = WorkerRecord(worker: worker, startedAt: loop.now())
        worker.start()
        loop.schedule(afterNanoseconds: Self.loadTimeout) { [weak self, weak worker] in
            guard let self, let worker, worker.state == .starting, self.records[ObjectIdentifier(worker)]?.becameReady == false else { return }
            let reason = "its worker did not finish loading within \(Self.loadTimeout / 1_000_000_000)s"
            self.markBroken(LoadFailure(reason: reason, plugin: self.isShared ? worker.loadingPlugin : nil))
            worker.kill()
        }
        metrics.workersStarted += 1
        log.debug("worker started", ["pid": "\(worker.pid)"])
    }

    private var isBroken: Bool { if case .broken = health { true } else { false } }

    /// Adds a worker when calls wait and every worker is busy, up to `max_workers`.
    private func growIfBacklogged() {
        guard !waiting.isEmpty, health == .serving, records.count < settings.maxWorkers else { return }
        let starting = workers.contains { $0.state == .starting }
        let allBusy = workers.allSatisfy { $0.inFlight >= settings.concurrency || $0.state != .starting && !isReady($0) }
        if !starting && allBusy { spawnWorker() }
    }

    private func isReady(_ worker: PoolWorker) -> Bool { if case .ready = worker.state { true } else { false } }

    /// Replaces a worker that has served `max_calls_per_worker` calls or lived `max_worker_age`.
    private func recycleIfWornOut(_ worker: PoolWorker) {
        guard health == .serving, isReady(worker), let record = records[ObjectIdentifier(worker)] else { return }
        let tooManyCalls = settings.maxCallsPerWorker > 0 && record.callsServed >= settings.maxCallsPerWorker
        let tooOld = settings.maxWorkerAge.milliseconds > 0 && loop.now() - record.startedAt >= settings.maxWorkerAge.nanoseconds
        guard tooManyCalls || tooOld else { return }
        log.info("recycling worker after \(record.callsServed) calls", ["pid": "\(worker.pid)"])
        metrics.recycled += 1
        spawnWorker()
        worker.drain(within: settings.drainTimeout.nanoseconds)
    }

    /// Calls fail at once with `failure` until a worker gets ready; workers are still started,
    /// ever less often.
    func markBroken(_ failure: LoadFailure) {
        guard health != .draining else { return }
        loadFailure = failure
        let reason = failure.description
        if health != .broken(reason: reason) {
            log.error("cannot be loaded: \(reason)")
        }
        health = .broken(reason: reason)
        for ticket in waiting.takeAll() {
            ticket.fail(.unavailable(reason: reason))
        }
    }

    private func workerExited(_ worker: PoolWorker, status: ExitStatus) {
        let becameReady = records.removeValue(forKey: ObjectIdentifier(worker))?.becameReady ?? true
        for (key, ticket) in running where ticket.worker === worker {
            running[key] = nil
            budget.release()
        }
        if health == .draining {
            finishDrainIfIdle()
            return
        }
        if !worker.wasRetired && !isBroken {
            log.warning("worker exited (\(status)); replacing it", ["pid": "\(worker.pid)"])
            metrics.workerCrashes += 1
            if !becameReady { earlyExits += 1 }
            if earlyExits >= Self.earlyExitLimit {
                let reason = "its worker exited before it was ready, \(earlyExits) times in a row (the last \(status))"
                markBroken(LoadFailure(reason: reason, plugin: isShared ? worker.loadingPlugin : nil))
            }
        }
        if records.count < max(settings.minWorkers, 1) { scheduleReplacement() }
    }

    private func scheduleReplacement() {
        let delay = isBroken ? restartDelayMs : 0
        if isBroken { restartDelayMs = min(restartDelayMs * 2, 30_000) }
        loop.schedule(afterNanoseconds: UInt64(delay) * 1_000_000) { [weak self] in
            guard let self, self.health != .draining, self.records.count < max(self.settings.minWorkers, 1) else { return }
            self.spawnWorker()
        }
    }

    // MARK: Health

    private func scheduleHeartbeat() {
        heartbeatTimer = loop.schedule(afterNanoseconds: 2_000_000_000) { [weak self] in
            guard let self, self.health != .draining else { return }
            for worker in self.workers where self.isReady(worker) {
                if !worker.heartbeat() {
                    self.log.error("worker stopped answering heartbeats (a plugin stuck in a loop?); killing it", ["pid": "\(worker.pid)"])
                    worker.kill()
                } else if let rss = worker.residentBytes, rss > self.settings.maxMemoryMegabytes << 20 {
                    self.log.warning(
                        "worker uses \(rss >> 20) MiB, over max_memory_mb (\(self.settings.maxMemoryMegabytes)); replacing it",
                        ["pid": "\(worker.pid)"])
                    self.metrics.recycled += 1
                    self.spawnWorker()
                    worker.drain(within: self.settings.drainTimeout.nanoseconds)
                }
            }
            self.scheduleHeartbeat()
        }
    }

    private func armSweep() {
        guard sweepTimer == nil, !(waiting.isEmpty && running.isEmpty) else { return }
        sweepTimer = loop.schedule(afterNanoseconds: 50_000_000) { [weak self] in
            guard let self else { return }
            self.sweepTimer = nil
            self.expireOverdueCalls()
            self.armSweep()
        }
    }

    /// A call past its deadline fails with `timeout`; the worker holding it is presumed stuck and
    /// is terminated (SIGTERM, then SIGKILL after `drain_timeout`) and replaced.
    private func expireOverdueCalls() {
        let now = loop.now()
        let overdue = (waiting + running.values).filter { $0.deadline <= now && !$0.isFinished }
        guard !overdue.isEmpty else { return }
        waiting.removeAll { $0.deadline <= now }
        for ticket in overdue {
            if running.removeValue(forKey: ObjectIdentifier(ticket)) != nil { budget.release() }
            log.warning("\(ticket.phase) call timed out after \(ticket.timeout)")
            ticket.fail(.timedOut(seconds: ticket.timeout.seconds))
            if let worker = ticket.worker, worker.state != .draining {
                worker.terminate(grace: settings.drainTimeout.nanoseconds)
            }
        }
        finishDrainIfIdle()
    }

    // MARK: Shutdown

    /// Lets running calls finish, then drains every worker; `completion` runs when all have exited.
    func drain(completion: @escaping () -> Void) {
        health = .draining
        drainCompletions.append(completion)
        if let heartbeatTimer { loop.cancelTimer(heartbeatTimer) }
        for ticket in waiting.takeAll() {
            ticket.fail(.unavailable(reason: "plugboard is shutting down"))
        }
        for worker in workers { worker.drain(within: settings.drainTimeout.nanoseconds) }
        finishDrainIfIdle()
    }

    private func finishDrainIfIdle() {
        guard health == .draining, records.isEmpty, !drainCompletions.isEmpty else { return }
        for completion in drainCompletions.takeAll() { completion() }
    }

    enum Readiness: Equatable {
        case starting, serving, broken(String)
    }

    /// Whether a worker has loaded the plugin yet (the canary check of a reload).
    var readiness: Readiness {
        switch health {
        case .starting, .draining: .starting
        case .serving: .serving
        case .broken(let reason): .broken(reason)
        }
    }

    let fingerprint: String

    var status: PluginPoolStatus {
        let state = switch health {
        case .starting: "starting"
        case .serving: "serving"
        case .broken(let reason): "broken: \(reason)"
        case .draining: "draining"
        }
        return PluginPoolStatus(
            plugin: name, state: state, fingerprint: fingerprint, queued: waiting.count, inFlight: running.count,
            workers: workers.map { worker in
                PluginPoolStatus.Worker(
                    pid: worker.pid, state: worker.stateName, inFlight: worker.inFlight,
                    calls: records[ObjectIdentifier(worker)]?.callsServed ?? 0, residentBytes: worker.residentBytes)
            },
            calls: metrics.calls, failuresByKind: metrics.failuresByKind, workersStarted: metrics.workersStarted,
            workerCrashes: metrics.workerCrashes, recycled: metrics.recycled, latencyBuckets: metrics.latency.cumulative,
            latencySumSeconds: metrics.latency.sumSeconds, latencyCount: metrics.latency.count,
            members: isShared ? members.map { PluginCallStatus(plugin: $0.name, metrics: memberMetrics[$0.name] ?? PluginMetrics()) } : [])
    }

    /// One member plugin's turn: `nanoseconds` is nil when it never ran (the pool could not take it).
    func recordMember(_ plugin: String, nanoseconds: UInt64?, failure: PluginFailure.Kind?) {
        guard isShared else { return }
        memberMetrics[plugin, default: PluginMetrics()].record(nanoseconds: nanoseconds, failure: failure)
    }
}

extension Result where Failure == PluginFailure {
    var failureKind: PluginFailure.Kind? {
        if case .failure(let failure) = self { failure.kind } else { nil }
    }
}
