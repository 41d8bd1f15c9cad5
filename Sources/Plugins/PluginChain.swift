import Config
import Glibc
import JSON
import Logging

/// What a chain knows about the call it works on; the same in both phases of one call.
public struct ChainContext {
    public let serverName: String
    public let method: String
    /// The tool or prompt name, or the resource URI: what entry globs match against.
    public let subject: String?
    /// Shared by the request and response phase of one call.
    public let requestID: String
    /// The protocol revisions on each side of the proxy: the client's request, and the server's.
    public let clientProtocol: String?
    public let serverProtocol: String?

    public init(serverName: String, method: String, subject: String?, requestID: String, clientProtocol: String? = nil, serverProtocol: String? = nil) {
        self.serverName = serverName
        self.method = method
        self.subject = subject
        self.requestID = requestID
        self.clientProtocol = clientProtocol
        self.serverProtocol = serverProtocol
    }
}

/// How a chain ended.
public enum ChainOutcome {
    /// Go on with this (possibly rewritten) params object (request phase) or result (response phase).
    case proceed(JSONObject)
    case blocked(plugin: String, reason: String)
    case failed(PluginFailure)
}

/// One plugin's turn in a chain, for `plugboard call`'s summary and for tests.
public struct PluginStepReport: Sendable {
    public let plugin: String
    public let phase: PluginPhase
    public let milliseconds: Double
    public let bytesIn: Int
    public let bytesOut: Int
    /// "ok", "unchanged", "blocked", or a failure kind.
    public let outcome: String
}

/// Runs the entries of one server's request or response chain in order, each on what the one
/// before it produced. Loop-confined.
public final class PluginChain {
    private let registry: PluginRegistry
    private let log: Logger
    /// Told about every step; nil in normal serving.
    public var observer: ((PluginStepReport) -> Void)?
    /// Told the metadata each plugin returns, with the server of the call (curate's token counts).
    public var onMetadata: ((_ plugin: String, _ server: String, JSONObject) -> Void)?
    /// Calls between their first plugin step and their answer (see `lease()`).
    public private(set) var activeCalls = 0
    /// Runs whenever `activeCalls` drops to zero: how a retired generation knows it may go.
    public var onIdle: (() -> Void)?

    /// Holds the chain for one call: a call keeps the generation it started in (never a mix of
    /// plugin versions), and the generation's pools retire only once no call holds them.
    /// Released when the last closure of the call lets go of it.
    public final class Lease {
        private let chain: PluginChain
        fileprivate init(_ chain: PluginChain) {
            self.chain = chain
            chain.activeCalls += 1
        }
        deinit {
            chain.activeCalls -= 1
            if chain.activeCalls == 0 { chain.onIdle?() }
        }
    }

    public func lease() -> Lease { Lease(self) }

    public init(registry: PluginRegistry, log: Logger) {
        self.registry = registry
        self.log = log.tagged("plugins")
    }

    /// The entries of `chain` that apply to this call.
    public static func entries(_ chain: [PluginChainEntry], for context: ChainContext) -> [PluginChainEntry] {
        chain.filter { entry in
            guard entry.methods.contains(context.method) else { return false }
            guard !entry.tools.isEmpty, let subject = context.subject else { return true }
            return entry.tools.contains { (try? GlobPattern($0))?.matches(subject) ?? false }
        }
    }

    /// `memory` carries `state` and `context` from the request chain to the response chain of
    /// the same call: pass the same one to both.
    public func runRequest(
        _ entries: [PluginChainEntry], context: ChainContext, params: JSONObject, memory: CallMemory = CallMemory(),
        completion: @escaping (ChainOutcome) -> Void
    ) {
        let run = Run(entries: entries, phase: .request, context: context, params: params, memory: memory, completion: completion)
        step(0, of: run, current: params)
    }

    public func runResponse(
        _ entries: [PluginChainEntry], context: ChainContext, params: JSONObject, result: JSONObject, memory: CallMemory = CallMemory(),
        completion: @escaping (ChainOutcome) -> Void
    ) {
        let run = Run(entries: entries, phase: .response, context: context, params: params, memory: memory, completion: completion)
        step(0, of: run, current: result)
    }

    /// One pass over a phase's entries.
    private struct Run {
        let entries: [PluginChainEntry]
        let phase: PluginPhase
        let context: ChainContext
        let params: JSONObject
        let memory: CallMemory
        let completion: (ChainOutcome) -> Void
    }

    private func step(_ index: Int, of run: Run, current: JSONObject) {
        guard index < run.entries.count else { return run.completion(.proceed(current)) }
        let fused = registry.fusedLength(of: run.entries, from: index, server: run.context.serverName)
        if fused > 1 { return runFused(index..<index + fused, of: run, current: current) }
        let (phase, context, completion) = (run.phase, run.context, run.completion)
        let entry = run.entries[index]
        let key = CallMemory.key(of: index, in: run.entries)
        let input = input(for: entry, at: index, of: run, current: current)
        let started = EventLoopClock.now()
        registry.call(entry, phase: phase, input: input, server: context.serverName) { [weak self] reply in
            guard let self else { return }
            let elapsedMs = Double(EventLoopClock.now() - started) / 1e6
            let outcome: Result<PluginOutput, PluginFailure> = reply.flatMap { value in
                PluginOutput.validate(value, phase: phase).mapError {
                    PluginFailure(plugin: entry.plugin, phase: phase, kind: .invalidOutput(reason: $0.reason))
                }
            }
            if let observer = self.observer {
                let outcomeName: String
                switch outcome {
                case .failure(let failure): outcomeName = failure.kind.name
                case .success(let output):
                    switch output.change {
                    case .none: outcomeName = "unchanged"
                    case .block: outcomeName = "blocked"
                    default: outcomeName = "ok"
                    }
                }
                let bytesIn = JSONValue.object(current).serialized().count
                let bytesOut = (try? reply.get())?.map { $0.serialized().count } ?? 0
                observer(PluginStepReport(plugin: entry.plugin, phase: phase, milliseconds: elapsedMs, bytesIn: bytesIn, bytesOut: bytesOut, outcome: outcomeName))
            }
            switch outcome {
            case .failure(let failure):
                self.skipOrFail(failure, policy: entry.onError, run: run) { self.step(index + 1, of: run, current: current) }
            case .success(let output):
                var output = output
                if let state = output.state { run.memory.remember(state: state, for: key) }
                if let shared = output.context { run.memory.replace(context: shared) }
                if let softError = output.softError {
                    self.reportSoftError(softError, plugin: entry.plugin, phase: phase)
                    output.change = .none
                    output.metadata = nil
                }
                self.log.debug("plugin '\(entry.plugin)' \(phase) took \((elapsedMs * 100).rounded() / 100) ms")
                if let metadata = output.metadata { self.onMetadata?(entry.plugin, context.serverName, metadata) }
                let applied = PluginOutputApplier.apply(output, phase: phase, method: context.method, to: current, plugin: entry.plugin)
                switch applied {
                case .failure(let problem):
                    let failure = PluginFailure(plugin: entry.plugin, phase: phase, kind: .invalidOutput(reason: problem.reason))
                    self.skipOrFail(failure, policy: entry.onError, run: run) { self.step(index + 1, of: run, current: current) }
                case .success(.blocked(let reason)):
                    self.reportBlock(by: entry.plugin, reason: reason, run: run)
                case .success(.replaced(let next)):
                    if output.continueChain {
                        self.step(index + 1, of: run, current: next)
                    } else {
                        completion(.proceed(next))
                    }
                }
            }
        }
    }

    /// Entries `range` of the run, in one round trip to the worker that holds their plugins.
    private func runFused(_ range: Range<Int>, of run: Run, current: JSONObject) {
        let (phase, context) = (run.phase, run.context)
        let timeout = registry.defaultTimeout
        let steps = range.map { index in
            FusedRun.Step(
                entry: run.entries[index], state: phase == .response ? run.memory.state(for: CallMemory.key(of: index, in: run.entries)) : nil,
                timeout: run.entries[index].timeout ?? timeout)
        }
        let body = FusedRun.body(
            phase: phase, method: context.method, steps: steps, input: input(for: steps[0].entry, at: range.lowerBound, of: run, current: current),
            current: phase == .request ? current : nil, measure: observer != nil)
        registry.run(steps, phase: phase, body: body, server: context.serverName) { [weak self] answer in
            guard let self else { return }
            let reply: FusedRun.Reply
            switch answer {
            case .failure(let failure):
                // Its pool could not load one of the plugins, so nothing ran: the registry has
                // given that plugin a pool of its own, and the entries are tried again apart.
                if case .unavailable = failure.kind,
                    self.registry.fusedLength(of: run.entries, from: range.lowerBound, server: context.serverName) < range.count
                {
                    return self.step(range.lowerBound, of: run, current: current)
                }
                // The run as a whole: its worker crashed or stopped answering inside some step.
                let policy: PluginChainEntry.FailurePolicy = steps.allSatisfy { $0.entry.onError == .skip } ? .skip : .fail
                return self.skipOrFail(failure, policy: policy, run: run) { self.step(range.upperBound, of: run, current: current) }
            case .success(let message):
                guard let message, let parsed = FusedRun.reply(message, steps: steps) else {
                    let failure = PluginFailure(
                        plugin: FusedRun.name(of: steps), phase: phase, kind: .crashed(status: "answered a fused run with a message plugboard cannot read"))
                    return self.skipOrFail(failure, policy: .fail, run: run) {}
                }
                reply = parsed
            }
            for (offset, report) in reply.reports.enumerated() {
                let index = range.lowerBound + offset
                self.registry.record(step: report.plugin, server: context.serverName, milliseconds: report.milliseconds, failure: report.failure)
                self.observer?(
                    PluginStepReport(
                        plugin: report.plugin, phase: phase, milliseconds: report.milliseconds, bytesIn: report.bytesIn, bytesOut: report.bytesOut,
                        outcome: report.outcome))
                if let state = report.state { run.memory.remember(state: state, for: CallMemory.key(of: index, in: run.entries)) }
                if let warning = report.warning { self.reportSoftError(warning, plugin: report.plugin, phase: phase) }
                if let metadata = report.metadata { self.onMetadata?(report.plugin, context.serverName, metadata) }
                if let kind = report.failure, offset < reply.reports.count - 1 || reply.end != .failed {
                    self.log.warning("\(PluginFailure(plugin: report.plugin, phase: phase, kind: kind)); skipped (on_error = \"skip\")")
                }
            }
            if let shared = reply.context { run.memory.replace(context: shared) }
            let next = reply.current ?? current
            switch reply.end {
            case .proceed(let stopped):
                if stopped { return run.completion(.proceed(next)) }
                self.step(range.upperBound, of: run, current: next)
            case .blocked(let reason):
                self.reportBlock(by: reply.reports[reply.reports.count - 1].plugin, reason: reason, run: run)
            case .failed:
                let last = reply.reports[reply.reports.count - 1]
                self.skipOrFail(PluginFailure(plugin: last.plugin, phase: phase, kind: last.failure ?? .noHook), policy: .fail, run: run) {}
            }
        }
    }

    private func input(for entry: PluginChainEntry, at index: Int, of run: Run, current: JSONObject) -> JSONValue {
        let phase = run.phase
        return PluginInput.build(
            entry: entry, phase: phase, context: run.context, params: phase == .request ? current : run.params,
            result: phase == .response ? current : nil, state: run.memory.state(for: CallMemory.key(of: index, in: run.entries)),
            shared: run.memory.context)
    }

    /// A failed step: skipped (logged) when its entry says `on_error = "skip"`, else the chain's end.
    private func skipOrFail(_ failure: PluginFailure, policy: PluginChainEntry.FailurePolicy, run: Run, skip: () -> Void) {
        guard policy == .skip else {
            log.error("\(failure) (\(run.context.method) on '\(run.context.serverName)')")
            return run.completion(.failed(failure))
        }
        log.warning("\(failure); skipped (on_error = \"skip\")")
        skip()
    }

    private func reportSoftError(_ text: String, plugin: String, phase: PluginPhase) {
        log.warning("plugin '\(plugin)' (\(phase) phase) reported: \(text); content left unchanged")
    }

    private func reportBlock(by plugin: String, reason: String, run: Run) {
        log.notice("plugin '\(plugin)' blocked \(run.context.method) \(run.context.subject ?? ""): \(reason)")
        run.completion(.blocked(plugin: plugin, reason: reason))
    }
}

/// The monotonic clock, for timing plugin calls.
enum EventLoopClock {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
