import Config
import Glibc
import IO
import JSON
import JSONRPC
import Logging
import Plugins
import Proxy

/// `plugboard call`: starts the configured upstreams, sends one `tools/call` through the full
/// request and response chains, prints the result and what each plugin did, and stops.
public enum OneShotCall {
    /// Returns the exit status: 0 when the tool answered without error.
    public static func run(config: PlugboardConfig, tool: String, arguments: JSONValue, printJSON: Bool, log: Logger) -> Int32 {
        let loop = EventLoop()
        let state = State()
        let bound = LoopBound(state, loop: loop)
        loop.execute {
            let state = bound.value
            let plugins: PluginRegistry
            do {
                plugins = try PluginRegistry(config: config, loop: loop, log: log)
            } catch {
                log.error("\(error)")
                state.status = 1
                return loop.stop()
            }
            let core = ProxyCore(config: config, loop: loop, log: log, plugins: plugins)
            core.observePluginSteps { state.steps.append($0) }
            let finish = {
                core.shutdown(deadline: config.limits.shutdownTimeout) { loop.stop() }
            }
            let session = core.openSession(label: "call") { message in
                guard let reply = try? JSONParser.parse(message), let id = reply["id"]?.int64Value else { return }
                if id == 1 {
                    guard reply["result"] != nil else {
                        state.report(error: reply["error"])
                        return finish()
                    }
                    let call: JSONValue = [
                        "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments],
                    ]
                    core.receive(JSONValue.object([
                        "jsonrpc": "2.0", "method": "notifications/initialized",
                    ]).serialized(), from: state.session!)
                    core.receive(call.serialized(), from: state.session!)
                } else if id == 2 {
                    state.report(reply: reply, printJSON: printJSON)
                    finish()
                }
            }
            state.session = session
            core.start()
            let initialize: JSONValue = [
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": [
                    "protocolVersion": .string(ProtocolVersion.latestLegacy), "capabilities": [:],
                    "clientInfo": ["name": "plugboard call", "version": .string(PlugboardVersion.current)],
                ],
            ]
            core.receive(initialize.serialized(), from: session)
        }
        loop.run()
        return state.status
    }

    private final class State {
        var session: ClientSession?
        var steps: [PluginStepReport] = []
        var status: Int32 = 0

        func report(error: JSONValue?) {
            status = 1
            write(STDERR_FILENO, "error: \(error?.serializedString ?? "no answer")\n")
        }

        func report(reply: JSONValue, printJSON: Bool) {
            for step in steps {
                let ms = (step.milliseconds * 100).rounded() / 100
                write(STDERR_FILENO, "plugin \(step.plugin) (\(step.phase)): \(ms) ms, \(step.bytesIn) → \(step.bytesOut) bytes, \(step.outcome)\n")
            }
            guard let result = reply["result"] else { return report(error: reply["error"]) }
            for line in TokenSavings.lines(for: result) { write(STDERR_FILENO, line + "\n") }
            if printJSON {
                write(STDOUT_FILENO, result.serializedString + "\n")
            } else {
                for block in result["content"]?.arrayValue ?? [] {
                    if let text = block["text"]?.stringValue {
                        write(STDOUT_FILENO, text + "\n")
                    } else {
                        write(STDOUT_FILENO, block.serializedString + "\n")
                    }
                }
            }
            if result["isError"]?.boolValue == true { status = 1 }
        }

        private func write(_ descriptor: Int32, _ text: String) {
            StandardStreams.write(text, to: descriptor)
        }
    }
}
