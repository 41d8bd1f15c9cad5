import Config
import IO
import JSON
import Logging

/// `plugboard plugin run`: one plugin, one call, through the real host, outside any proxy.
public enum PluginTrial {
    public struct Outcome {
        /// What the plugin returned (nil: no change), when it was valid.
        public let output: JSONValue?
        public let failure: PluginFailure?
        public let milliseconds: Double
    }

    /// Runs `file`'s hook for `phase` once on `input` and returns what came back, validated.
    /// Blocks the calling thread; starts and stops its own event loop.
    public static func run(file: String, phase: PluginPhase, input: JSONValue, timeout: TimeSpan, log: Logger) throws(HostScriptError) -> Outcome {
        let name = String(file.split(separator: "/").last ?? "plugin").split(separator: ".").first.map(String.init) ?? "plugin"
        let plugin = PluginDescriptor(name: name, path: file)
        let hostScript = try PluginHostScript.materialize()
        let loop = EventLoop()
        let settings = PoolSettings(PluginSettings(minWorkers: 1, maxWorkers: 1, timeout: timeout), maxMessageBytes: 64 << 20)
        let box = ResultBox()
        let bound = LoopBound(box, loop: loop)
        loop.execute {
            let box = bound.value
            let pool = PluginPool(plugin: plugin, settings: settings, hostScript: hostScript, budget: ExecutionBudget(limit: 1), loop: loop, log: log)
            box.pool = pool  // the pool's callbacks hold it weakly
            pool.start()
            let started = EventLoop.now()
            pool.call(phase: phase, input: input, timeout: timeout) { result in
                let elapsed = Double(EventLoop.now() - started) / 1e6
                switch result.flatMap({ value in
                    PluginOutput.validate(value, phase: phase).map { _ in value }.mapError {
                        PluginFailure(plugin: name, phase: phase, kind: .invalidOutput(reason: $0.reason))
                    }
                }) {
                case .success(let value): box.outcome = Outcome(output: value, failure: nil, milliseconds: elapsed)
                case .failure(let failure): box.outcome = Outcome(output: nil, failure: failure, milliseconds: elapsed)
                }
                pool.drain { loop.stop() }
            }
        }
        loop.run()
        return box.outcome ?? Outcome(output: nil, failure: PluginFailure(plugin: name, phase: phase, kind: .unavailable(reason: "no answer")), milliseconds: 0)
    }

    private final class ResultBox {
        var outcome: Outcome?
        var pool: PluginPool?
    }
}
