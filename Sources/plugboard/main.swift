import Config
import Glibc
import Logging
import Proxy
import Supervisor

/// `plugboard`: argument parsing and wiring only; everything else lives in the library modules.
let usage = """
    plugboard — an MCP proxy with JavaScript plugins

    USAGE
      plugboard run   [--config DIR] [--log-level LEVEL] [--log-format human|json]
      plugboard check [--config DIR]
      plugboard version
      plugboard help

    COMMANDS
      run      Serve one MCP client on stdin/stdout, proxying to the upstream servers
               configured in DIR (plugboard.toml plus conf.d/*.toml).
      check    Validate the configuration and list every error with file:line:col.
               Exits 0 when valid, 1 otherwise.

    OPTIONS
      --config DIR         Configuration directory (default: $PLUGBOARD_CONFIG, else ./etc)
      --log-level LEVEL    trace, debug, info, notice, warning or error (overrides [log] level)
      --log-format FORMAT  human or json (overrides [log] format)
      -h, --help           Show this help
      --version            Show the version

    Logs go to stderr; in `run`, stdout carries nothing but MCP messages.
    Signals: SIGTERM/SIGINT drain in-flight requests and stop; SIGUSR1 logs a status dump.
    Docs: docs/config.md (every key), ARCHITECTURE.md (the map).
    """

struct Invocation {
    var command = "help"
    var configDirectory: String?
    var logLevel: LogLevel?
    var logFormat: LogOutput.Format?
}

func fail(_ message: String) -> Never {
    FileDescriptorOutput.standardError("plugboard: \(message)\nRun `plugboard help` for usage.\n")
    exit(2)
}

func parseArguments(_ arguments: [String]) -> Invocation {
    var parsed = Invocation()
    var rest = arguments[...]
    guard let first = rest.popFirst() else { return parsed }
    switch first {
    case "-h", "--help", "help": return parsed
    case "--version", "version":
        parsed.command = "version"
        return parsed
    case "run", "check": parsed.command = first
    default: fail("unknown command '\(first)'")
    }
    func value(for option: String) -> String {
        guard let value = rest.popFirst() else { fail("\(option) needs a value") }
        return value
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--config", "-c": parsed.configDirectory = value(for: argument)
        case "--log-level":
            let name = value(for: argument)
            guard let level = LogLevel(name: name) else { fail("unknown log level '\(name)'") }
            parsed.logLevel = level
        case "--log-format":
            let name = value(for: argument)
            guard let format = LogOutput.Format(rawValue: name) else { fail("unknown log format '\(name)'") }
            parsed.logFormat = format
        case "-h", "--help":
            parsed.command = "help"
            return parsed
        default: fail("unknown option '\(argument)' for \(parsed.command)")
        }
    }
    return parsed
}

enum FileDescriptorOutput {
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
    static func standardOutput(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
}

let options = parseArguments(Array(CommandLine.arguments.dropFirst()))
let configDirectory = options.configDirectory ?? getenv("PLUGBOARD_CONFIG").map { String(cString: $0) } ?? "etc"

switch options.command {
case "version":
    FileDescriptorOutput.standardOutput("plugboard \(PlugboardVersion.current)\n")
case "check":
    do {
        let config = try ConfigLoader.load(directory: configDirectory)
        let names = config.servers.map(\.name).joined(separator: ", ")
        FileDescriptorOutput.standardOutput("\(configDirectory): OK (\(config.servers.count) server(s): \(names))\n")
    } catch {
        FileDescriptorOutput.standardError("\(error)\n")
        exit(1)
    }
case "run":
    let config: PlugboardConfig
    do {
        config = try ConfigLoader.load(directory: configDirectory)
    } catch {
        FileDescriptorOutput.standardError("plugboard: invalid configuration in \(configDirectory):\n\(error)\n")
        exit(1)
    }
    let output = LogOutput.standardError
    output.configure(
        level: options.logLevel ?? LogLevel(name: config.logging.level.rawValue) ?? .info,
        format: options.logFormat ?? LogOutput.Format(rawValue: config.logging.format.rawValue) ?? .human)
    let supervisor = Supervisor(config: config, log: Logger(component: "plugboard", output: output))
    exit(supervisor.run())
default:
    FileDescriptorOutput.standardOutput(usage + "\n")
}
