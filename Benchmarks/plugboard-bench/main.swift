import Glibc
import Processes

// plugboard-bench: measures plugboard. `json` times the JSON module; `proxy` measures
// what the proxy adds to an MCP stdio server's latency and throughput.

let usage = """
    usage: plugboard-bench json
           plugboard-bench proxy --direct "<cmd> <args…>" [--proxied "<cmd> <args…>"]
                                 [--iterations N] [--warmup N] [--sizes 1024,51200]
                                 [--in-flight 8] [--duration-ms 3000]
                                 [--tool payload] [--size-argument bytes] [--json]
                                 [--labels direct,proxied] [--title TEXT]
                                 [--p50-targets 1024:50,51200:150] [--p99-targets none]
                                 [--throughput-floor 0.8]

    proxy: spawns each command as an MCP stdio server (the command line is split on
    spaces), initializes it, then for each size makes N sequential tools/call requests
    (client-observed latency) and keeps --in-flight requests outstanding for
    --duration-ms (throughput). With --proxied it compares the two against the targets:
    at most so many µs added to p50 (and p99) per result size, as size:µs pairs (sizes
    between two pairs get an interpolated target; `none` drops p99's), and at least
    --throughput-floor of direct's calls per second (0: report the ratio only). The
    defaults are the proxy's targets. --labels names the two in the table, --title heads
    the comparison. Every JSON-RPC error response is counted and reported ("errors: 0");
    any makes the exit status 1. --json adds one line of machine-readable results at the
    end. On a small machine, pin everything to one CPU (taskset -c 0 plugboard-bench …)
    for stable comparisons: otherwise where the scheduler puts each process moves p50
    by ±50 µs.
    """

func fail(_ message: String, status: Int32) -> Never {
    FileDescriptor.standardError.writeMessage("plugboard-bench: \(message)\n")
    exit(status)
}

extension FileDescriptor {
    /// Best effort: a benchmark's diagnostics are not worth failing over.
    func writeMessage(_ text: String) {
        try? writeAll(Array(text.utf8))
    }
}

// A client whose server died must see EPIPE from write, not die of SIGPIPE.
_ = signal(SIGPIPE, SIG_IGN)

var arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "json":
    runJSONBenchmark()
case "proxy":
    let options: ProxyBenchmark.Options
    do { options = try ProxyBenchmark.Options(parsing: Array(arguments.dropFirst())) } catch {
        fail("\(error)\n\n\(usage)", status: 64)
    }
    // Created before any other thread so the signals stay blocked everywhere: Ctrl-C
    // stops the servers (they run in their own process groups, out of the terminal's reach).
    let interrupts = SignalWatcher(signals: [SIGINT, SIGTERM]) { signal in
        TargetRegistry.shared.isInterrupted = true
        let stopped = TargetRegistry.shared.terminateAll()
        FileDescriptor.standardError.writeMessage(
            "plugboard-bench: \(signalName(signal)), stopped \(stopped) server(s)\n")
        exit(128 + signal)
    }
    let errors: Int
    do {
        errors = try ProxyBenchmark(options: options).run()
    } catch {
        // An interrupt makes the servers vanish mid-call; its handler reports and exits.
        while TargetRegistry.shared.isInterrupted { pause() }
        _ = TargetRegistry.shared.terminateAll()
        fail("\(error)", status: 1)
    }
    interrupts.stop()
    if errors > 0 { fail("\(errors) call(s) answered with a JSON-RPC error", status: 1) }
case "-h", "--help", "help":
    print(usage)
default:
    fail(arguments.first.map { "unknown subcommand \"\($0)\"\n\n\(usage)" } ?? usage, status: 64)
}
