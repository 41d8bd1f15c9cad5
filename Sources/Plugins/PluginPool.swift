import Config
import Glibc
import IO
import JSON
import Logging
import Processes

/// What a pool needs to know about running its workers.
public struct PoolSettings: Sendable {
    public var workers: Int
    public var concurrency: Int
    public var timeout: TimeSpan
    public var maxMemoryMegabytes: Int
    public var node: String
    public var maxMessageBytes: Int

    public init(_ settings: PluginSettings, maxMessageBytes: Int) {
        workers = settings.workers
        concurrency = settings.concurrency
        timeout = settings.timeout
        maxMemoryMegabytes = settings.maxMemoryMegabytes
        node = settings.node
        self.maxMessageBytes = maxMessageBytes
    }
}

/// The warm workers of one plugin: calls go to the least busy ready worker, wait while all
/// are busy or starting, and fail (never hang) when the plugin cannot run. Crashed, stuck or
/// bloated workers are replaced. Loop-confined.
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
        let phase: PluginPhase
        let input: JSONValue
        let deadline: UInt64
        private var completion: ((Result<JSONValue?, PluginFailure>) -> Void)?
        var worker: PluginWorker?

        init(phase: PluginPhase, input: JSONValue, deadline: UInt64, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
            self.phase = phase
            self.input = input
            self.deadline = deadline
            self.completion = completion
        }

        var isFinished: Bool { completion == nil }

        func finish(_ result: Result<JSONValue?, PluginFailure>) {
            let completion = self.completion
            self.completion = nil
            completion?(result)
        }
    }

    let plugin: PluginDescriptor
    private let settings: PoolSettings
    private let hostScript: String
    private let loop: EventLoop
    private let log: Logger
    private var health = Health.starting
    private var workers: [PluginWorker] = []
    private var waiting: [Ticket] = []
    private var running: [ObjectIdentifier: Ticket] = [:]
    private var restartDelayMs: Int64 = 250
    private var heartbeatTimer: EventLoop.TimerID?
    private var sweepTimer: EventLoop.TimerID?
    private var onDrained: (() -> Void)?
    private(set) var counters = Counters()

    struct Counters {
        var calls = 0
        var failures = 0
        var timeouts = 0
        var workerRestarts = 0
    }

    init(plugin: PluginDescriptor, settings: PoolSettings, hostScript: String, loop: EventLoop, log: Logger) {
        self.plugin = plugin
        self.settings = settings
        self.hostScript = hostScript
        self.loop = loop
        self.log = log.tagged("plugin:\(plugin.name)")
    }

    func start() {
        for _ in 0..<settings.workers { spawnWorker() }
        scheduleHeartbeat()
    }

    // MARK: Calls

    func call(phase: PluginPhase, input: JSONValue, completion: @escaping (Result<JSONValue?, PluginFailure>) -> Void) {
        counters.calls += 1
        if case .broken(let reason) = health {
            counters.failures += 1
            completion(.failure(PluginFailure(plugin: plugin.name, phase: phase, kind: .unavailable(reason: reason))))
            return
        }
        if health == .draining {
            completion(.failure(PluginFailure(plugin: plugin.name, phase: phase, kind: .unavailable(reason: "plugboard is shutting down"))))
            return
        }
        let deadline = EventLoop.now() + settings.timeout.nanoseconds
        let ticket = Ticket(phase: phase, input: input, deadline: deadline, completion: completion)
        waiting.append(ticket)
        dispatchWaiting()
        armSweep()
    }

    private func dispatchWaiting() {
        while let ticket = waiting.first {
            guard let worker = leastBusyWorker(for: ticket.phase) else { return }
            waiting.removeFirst()
            run(ticket, on: worker)
        }
    }

    private func leastBusyWorker(for phase: PluginPhase) -> PluginWorker? {
        workers
            .filter { if case .ready = $0.state { $0.inFlight < settings.concurrency } else { false } }
            .min { $0.inFlight < $1.inFlight }
    }

    private func run(_ ticket: Ticket, on worker: PluginWorker) {
        if case .ready(let hooks) = worker.state, !hooks.contains(ticket.phase) {
            counters.failures += 1
            ticket.finish(.failure(PluginFailure(plugin: plugin.name, phase: ticket.phase, kind: .noHook)))
            return
        }
        ticket.worker = worker
        running[ObjectIdentifier(ticket)] = ticket
        worker.call(phase: ticket.phase, input: ticket.input) { [weak self] result in
            guard let self else { return }
            self.running[ObjectIdentifier(ticket)] = nil
            if case .failure = result { self.counters.failures += 1 }
            ticket.finish(result)
            self.dispatchWaiting()
            self.finishDrainIfIdle()
        }
    }

    // MARK: Workers

    private func spawnWorker() {
        let worker: PluginWorker
        do {
            worker = try PluginWorker(plugin: plugin, hostScript: hostScript, settings: settings, loop: loop, log: log)
        } catch {
            markBroken("cannot start a worker: \(error)")
            return
        }
        worker.onReady = { [weak self] _ in
            guard let self else { return }
            if self.health != .draining { self.health = .serving }
            self.restartDelayMs = 250
            self.dispatchWaiting()
        }
        worker.onFatal = { [weak self] _, reason in self?.markBroken(reason) }
        worker.onExit = { [weak self] worker, status in self?.workerExited(worker, status: status) }
        workers.append(worker)
        worker.start()
        log.debug("worker started", ["pid": "\(worker.pid)"])
    }

    private func markBroken(_ reason: String) {
        guard health != .draining else { return }
        if health != .broken(reason: reason) {
            log.error("cannot be loaded: \(reason)")
        }
        health = .broken(reason: reason)
        let stranded = waiting
        waiting = []
        for ticket in stranded {
            counters.failures += 1
            ticket.finish(.failure(PluginFailure(plugin: plugin.name, phase: ticket.phase, kind: .unavailable(reason: reason))))
        }
    }

    private func workerExited(_ worker: PluginWorker, status: ExitStatus) {
        workers.removeAll { $0 === worker }
        if health == .draining {
            finishDrainIfIdle()
            return
        }
        if case .broken = health {
            // Retry loading with backoff, so a fixed file (or a reload) brings the plugin back.
            scheduleReplacement()
            return
        }
        log.warning("worker exited (\(status)); replacing it", ["pid": "\(worker.pid)"])
        counters.workerRestarts += 1
        scheduleReplacement()
    }

    private func scheduleReplacement() {
        let delay = restartDelayMs
        restartDelayMs = min(restartDelayMs * 2, 30_000)
        loop.schedule(afterNanoseconds: UInt64(delay) * 1_000_000) { [weak self] in
            guard let self, self.health != .draining, self.workers.count < self.settings.workers else { return }
            self.spawnWorker()
        }
    }

    // MARK: Health

    private func scheduleHeartbeat() {
        heartbeatTimer = loop.schedule(afterNanoseconds: 2_000_000_000) { [weak self] in
            guard let self, self.health != .draining else { return }
            for worker in self.workers {
                guard case .ready = worker.state else { continue }
                if !worker.heartbeat() {
                    self.log.error("worker stopped answering heartbeats (a plugin stuck in a loop?); killing it", ["pid": "\(worker.pid)"])
                    worker.kill()
                } else if let rss = worker.residentBytes, rss > self.settings.maxMemoryMegabytes << 20 {
                    self.log.warning(
                        "worker uses \(rss >> 20) MiB, over max_memory_mb (\(self.settings.maxMemoryMegabytes)); replacing it",
                        ["pid": "\(worker.pid)"])
                    worker.drain(within: self.settings.timeout.nanoseconds)
                    self.spawnWorker()
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

    private func expireOverdueCalls() {
        let now = EventLoop.now()
        let overdue = (waiting + running.values).filter { $0.deadline <= now && !$0.isFinished }
        guard !overdue.isEmpty else { return }
        waiting.removeAll { $0.deadline <= now }
        for ticket in overdue {
            running[ObjectIdentifier(ticket)] = nil
            counters.timeouts += 1
            counters.failures += 1
            log.warning("\(ticket.phase) call timed out after \(settings.timeout)")
            ticket.finish(.failure(PluginFailure(plugin: plugin.name, phase: ticket.phase, kind: .timedOut(seconds: settings.timeout.seconds))))
        }
        finishDrainIfIdle()
    }

    // MARK: Shutdown

    /// Lets running calls finish, then drains every worker; `completion` runs when all have exited.
    func drain(completion: @escaping () -> Void) {
        health = .draining
        onDrained = completion
        if let heartbeatTimer { loop.cancelTimer(heartbeatTimer) }
        let stranded = waiting
        waiting = []
        for ticket in stranded {
            ticket.finish(.failure(PluginFailure(plugin: plugin.name, phase: ticket.phase, kind: .unavailable(reason: "plugboard is shutting down"))))
        }
        for worker in workers { worker.drain(within: settings.timeout.nanoseconds) }
        finishDrainIfIdle()
    }

    private func finishDrainIfIdle() {
        guard health == .draining, workers.isEmpty, let onDrained else { return }
        self.onDrained = nil
        onDrained()
    }

    var status: JSONObject {
        let state: String
        switch health {
        case .starting: state = "starting"
        case .serving: state = "serving"
        case .broken(let reason): state = "broken: \(reason)"
        case .draining: state = "draining"
        }
        return [
            "state": .string(state),
            "workers": .array(workers.map { .number(JSONNumber(Int64($0.pid))) }),
            "calls": .number(JSONNumber(counters.calls)),
            "failures": .number(JSONNumber(counters.failures)),
            "timeouts": .number(JSONNumber(counters.timeouts)),
            "workerRestarts": .number(JSONNumber(counters.workerRestarts)),
        ]
    }
}
