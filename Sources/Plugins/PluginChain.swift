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
        let (phase, context, params, completion) = (run.phase, run.context, run.params, run.completion)
        guard index < run.entries.count else { return completion(.proceed(current)) }
        let entry = run.entries[index]
        let key = CallMemory.key(of: index, in: run.entries)
        let input = PluginInput.build(
            entry: entry, phase: phase, context: context, params: phase == .request ? current : params,
            result: phase == .response ? current : nil, state: run.memory.state(for: key), shared: run.memory.context)
        let started = EventLoopClock.now()
        registry.call(entry, phase: phase, input: input) { [weak self] reply in
            guard let self else { return }
            let elapsedMs = Double(EventLoopClock.now() - started) / 1e6
            let outcome: Result<PluginOutput, PluginFailure> = reply.flatMap { value in
                PluginOutput.validate(value, phase: phase).mapError {
                    PluginFailure(plugin: entry.plugin, phase: phase, kind: .invalidOutput(reason: $0.reason))
                }
            }
            if let observer = self.observer {
                let bytesIn = JSONValue.object(current).serialized().count
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
                let bytesOut = (try? reply.get())?.map { $0.serialized().count } ?? 0
                observer(PluginStepReport(plugin: entry.plugin, phase: phase, milliseconds: elapsedMs, bytesIn: bytesIn, bytesOut: bytesOut, outcome: outcomeName))
            }
            switch outcome {
            case .failure(let failure):
                guard entry.onError == .skip else {
                    self.log.error("\(failure) (\(context.method) on '\(context.serverName)')")
                    return completion(.failed(failure))
                }
                self.log.warning("\(failure); skipped (on_error = \"skip\")")
                self.step(index + 1, of: run, current: current)
            case .success(let output):
                var output = output
                if let state = output.state { run.memory.remember(state: state, for: key) }
                if let shared = output.context { run.memory.replace(context: shared) }
                if let softError = output.softError {
                    self.log.warning("plugin '\(entry.plugin)' (\(phase) phase) reported: \(softError); content left unchanged")
                    output.change = .none
                    output.metadata = nil
                }
                self.log.debug("plugin '\(entry.plugin)' \(phase) took \((elapsedMs * 100).rounded() / 100) ms")
                if let metadata = output.metadata { self.onMetadata?(entry.plugin, context.serverName, metadata) }
                let applied = PluginOutputApplier.apply(output, phase: phase, method: context.method, to: current, plugin: entry.plugin)
                switch applied {
                case .failure(let problem):
                    let failure = PluginFailure(plugin: entry.plugin, phase: phase, kind: .invalidOutput(reason: problem.reason))
                    guard entry.onError == .skip else { return completion(.failed(failure)) }
                    self.log.warning("\(failure); skipped (on_error = \"skip\")")
                    self.step(index + 1, of: run, current: current)
                case .success(.blocked(let reason)):
                    self.log.notice("plugin '\(entry.plugin)' blocked \(context.method) \(context.subject ?? ""): \(reason)")
                    completion(.blocked(plugin: entry.plugin, reason: reason))
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
}

/// The monotonic clock, for timing plugin calls.
enum EventLoopClock {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
