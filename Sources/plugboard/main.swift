import Auth
import Config
import Glibc
import IO
import JSON
import Logging
import Plugins
import Proxy
import Supervisor

// `plugboard`: argument parsing and wiring only; everything else lives in the library modules.

let usage = """
    plugboard — an MCP proxy with JavaScript plugins

    USAGE
      plugboard run   [--config DIR] [--log-level LEVEL] [--log-format human|json]
                      [--http ADDRESS] [--admin ADDRESS] [--listen SOCKET]
                      [--status-file PATH] [--pid-file PATH] [--notify-fd N] [--no-watch]
      plugboard check [--config DIR]
      plugboard status [--config DIR] [--pid-file PATH] [--status-file PATH]
      plugboard call  TOOL [ARGUMENTS_JSON] [--config DIR] [--json]
      plugboard auth login SERVER [--config DIR] [--no-browser] [--redirect-port N]
                      [--scope SCOPE]... [--timeout 5m]
      plugboard auth status [--config DIR]
      plugboard auth logout SERVER [--config DIR]
      plugboard plugin run FILE --input FILE.json [--phase request|response] [--timeout 30s]
                      [--explain]
      plugboard plugin new NAME [--plugins-dir DIR]
      plugboard version
      plugboard help

    COMMANDS
      run          Serve MCP clients, proxying to the upstream servers configured in DIR
                   (plugboard.toml plus conf.d/*.toml): one client on stdin/stdout, or
                   Streamable HTTP clients when [http] listen (or --http) is set.
                   Changes to DIR or the plugins directory reload live, as does SIGHUP.
      check        Validate the configuration and list every error with file:line:col,
                   then compile each plugin the chains name (node --check: nothing runs) and
                   list those that cannot load, also with file:line:col.
                   Exits 0 when valid, 1 otherwise.
      status       Ask the running instance for its status dump (SIGUSR1) and print it.
      call         Start the configured upstreams, send one tools/call (TOOL as a client
                   sees it, e.g. docs__get-library-docs) through the plugin chains, print
                   the result, and on stderr what each plugin did.
      auth login   Authorize plugboard to a remote server that requires OAuth: prints the
                   authorization URL (and opens a browser where there is one), takes the
                   redirect on http://127.0.0.1:PORT/callback, and stores the tokens, which
                   a running instance picks up at once. See docs/auth.md.
      auth status  Each remote server's authorization: by whom, scopes, expiry.
      auth logout  Revoke a server's tokens where its authorization server allows, then
                   delete them.
      plugin run   Run one plugin once through the real plugin host on the input in
                   FILE.json and print its output (or its error). With --explain the
                   plugin is asked (config.explain) to say what it kept and why, and
                   stderr shows it: curate's sections, kept or not, with scores and reasons.
      plugin new   Scaffold DIR/NAME.mjs (default DIR: plugins.d) and a node --test file for it.

    OPTIONS
      --config DIR         Configuration directory (default: $PLUGBOARD_CONFIG, else ./etc)
      --status-file PATH   Where SIGUSR1 also writes the status dump (default: in the runtime
                           directory, $RUNTIME_DIRECTORY or $XDG_RUNTIME_DIR/plugboard)
      --pid-file PATH      Where `run` writes its pid for `status` (default: runtime directory)
      --http ADDRESS       Serve MCP over Streamable HTTP on ADDRESS (127.0.0.1:8080, [::1]:8080;
                           port 0 picks a free one), in place of [http] listen; repeatable.
                           /healthz /readyz /metrics /status are served there too.
      --admin ADDRESS      Serve /healthz /readyz /metrics /status on ADDRESS instead
      --listen SOCKET      Daemon mode: serve clients on a Unix socket, one session per connection
                           (clients connect with e.g. `socat STDIO UNIX-CONNECT:SOCKET`)
      --no-browser         auth login: only print the URL (to open on another machine)
      --redirect-port N    auth login: the loopback port for the redirect (default: redirect_port,
                           else a free one); fixed ports suit SSH forwarding (ssh -L N:127.0.0.1:N)
      --scope SCOPE        auth login: request SCOPE as well; repeatable
      --notify-fd N        s6 readiness: write a newline to descriptor N once serving
      --no-watch           Do not watch DIR and the plugins directory (SIGHUP still reloads)
      --log-level LEVEL    trace, debug, info, notice, warning or error (overrides [log] level)
      --log-format FORMAT  human or json (overrides [log] format)
      -h, --help           Show this help
      --version            Show the version

    Logs go to stderr; in `run`, stdout carries nothing but MCP messages.
    Signals: SIGTERM/SIGINT drain in-flight requests and stop; SIGUSR1 logs a status dump.
    Docs: docs/config.md (every key), docs/plugins.md (plugin contract), ARCHITECTURE.md.
    """

enum Command: Equatable {
    case help, version, run, check, call, pluginRun, pluginNew, status, authLogin, authStatus, authLogout
}

struct Invocation {
    var command = Command.help
    var positional: [String] = []
    var configDirectory: String?
    var logLevel: LogLevel?
    var logFormat: LogOutput.Format?
    var inputFile: String?
    var phase = PluginPhase.response
    var timeout = TimeSpan.seconds(30)
    var printJSON = false
    var explain = false
    var statusFile: String?
    var pidFile: String?
    var notifyDescriptor: Int32?
    var watch = true
    var pluginsDirectory = "plugins.d"
    var listenPath: String?
    var httpListen: [ListenAddress]?
    var adminListen: ListenAddress?
    var login = Login.Options()
}

enum Output {
    static func standardOutput(_ text: String) { StandardStreams.output(text) }
    static func standardError(_ text: String) { StandardStreams.error(text) }
}

func fail(_ message: String) -> Never {
    Output.standardError("plugboard: \(message)\nRun `plugboard help` for usage.\n")
    exit(2)
}

func parseArguments(_ arguments: [String]) -> Invocation {
    var parsed = Invocation()
    var rest = arguments[...]
    guard let first = rest.popFirst() else { return parsed }
    switch first {
    case "-h", "--help", "help": return parsed
    case "--version", "version":
        parsed.command = .version
        return parsed
    case "run": parsed.command = .run
    case "check": parsed.command = .check
    case "call": parsed.command = .call
    case "status": parsed.command = .status
    case "auth":
        switch rest.popFirst() {
        case "login": parsed.command = .authLogin
        case "status": parsed.command = .authStatus
        case "logout": parsed.command = .authLogout
        default: fail("`auth` needs a subcommand: `auth login SERVER`, `auth status` or `auth logout SERVER`")
        }
    case "plugin":
        switch rest.popFirst() {
        case "run": parsed.command = .pluginRun
        case "new": parsed.command = .pluginNew
        default: fail("`plugin` needs a subcommand: `plugin run FILE --input FILE.json` or `plugin new NAME`")
        }
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
        case "--input" where parsed.command == .pluginRun: parsed.inputFile = value(for: argument)
        case "--phase" where parsed.command == .pluginRun:
            let name = value(for: argument)
            guard let phase = PluginPhase(rawValue: name) else { fail("--phase must be request or response, not '\(name)'") }
            parsed.phase = phase
        case "--no-browser" where parsed.command == .authLogin: parsed.login.openBrowser = false
        case "--redirect-port" where parsed.command == .authLogin:
            let text = value(for: argument)
            guard let port = Int(text), (1...65535).contains(port) else { fail("--redirect-port takes a TCP port (1 to 65535), not '\(text)'") }
            parsed.login.redirectPort = port
        case "--scope" where parsed.command == .authLogin:
            let scope = value(for: argument)
            guard !scope.isEmpty, !scope.contains(" ") else { fail("--scope takes one scope token; repeat it for several") }
            parsed.login.extraScopes.append(scope)
        case "--timeout" where parsed.command == .authLogin:
            let text = value(for: argument)
            guard let timeout = TimeSpan(parsing: text), timeout.milliseconds > 0 else { fail("--timeout takes a duration like 5m or 90s, not '\(text)'") }
            parsed.login.timeoutSeconds = timeout.seconds
        case "--timeout" where parsed.command == .pluginRun:
            let text = value(for: argument)
            guard let timeout = TimeSpan(parsing: text) else { fail("--timeout takes a duration like 5s or 500ms, not '\(text)'") }
            parsed.timeout = timeout
        case "--json" where parsed.command == .call: parsed.printJSON = true
        case "--explain" where parsed.command == .pluginRun: parsed.explain = true
        case "--plugins-dir" where parsed.command == .pluginNew: parsed.pluginsDirectory = value(for: argument)
        case "--status-file" where parsed.command == .run || parsed.command == .status: parsed.statusFile = value(for: argument)
        case "--pid-file" where parsed.command == .run || parsed.command == .status: parsed.pidFile = value(for: argument)
        case "--notify-fd" where parsed.command == .run:
            let text = value(for: argument)
            guard let descriptor = Int32(text), descriptor > 2 else { fail("--notify-fd takes a descriptor number above 2, not '\(text)'") }
            parsed.notifyDescriptor = descriptor
        case "--no-watch" where parsed.command == .run: parsed.watch = false
        case "--listen" where parsed.command == .run: parsed.listenPath = value(for: argument)
        case "--http" where parsed.command == .run, "--admin" where parsed.command == .run:
            let text = value(for: argument)
            guard let address = ListenAddress(parsing: text) else {
                fail("\(argument) takes HOST:PORT with an IPv4 address, [IPv6] or localhost (e.g. 127.0.0.1:8080), not '\(text)'")
            }
            if argument == "--http" { parsed.httpListen = (parsed.httpListen ?? []) + [address] } else { parsed.adminListen = address }
        case "-h", "--help":
            parsed.command = .help
            return parsed
        default:
            guard !argument.hasPrefix("-") else { fail("unknown option '\(argument)' for \(first)") }
            parsed.positional.append(argument)
        }
    }
    let expected: ClosedRange<Int> =
        switch parsed.command {
        case .call: 1...2
        case .pluginRun, .pluginNew, .authLogin, .authLogout: 1...1
        default: 0...0
        }
    guard expected.contains(parsed.positional.count) else {
        fail("unexpected arguments for \(first): \(parsed.positional.joined(separator: " "))")
    }
    return parsed
}

func loadConfig(_ directory: String) -> PlugboardConfig {
    do {
        return try ConfigLoader.load(directory: directory)
    } catch {
        Output.standardError("plugboard: invalid configuration in \(directory):\n\(error)\n")
        exit(1)
    }
}

func logger(for options: Invocation, config: PlugboardConfig?) -> Logger {
    let output = LogOutput.standardError
    output.configure(
        level: options.logLevel ?? config.flatMap { LogLevel(name: $0.logging.level.rawValue) } ?? .info,
        format: options.logFormat ?? config.flatMap { LogOutput.Format(rawValue: $0.logging.format.rawValue) } ?? .human)
    return Logger(component: "plugboard", output: output)
}

let options = parseArguments(Array(CommandLine.arguments.dropFirst()))
let configDirectory = options.configDirectory ?? getenv("PLUGBOARD_CONFIG").map { String(cString: $0) } ?? "etc"

switch options.command {
case .help:
    Output.standardOutput(usage + "\n")
case .version:
    Output.standardOutput("plugboard \(PlugboardVersion.current)\n")
case .check:
    let config = loadConfig(configDirectory)
    let pluginProblems = PluginSyntaxCheck.problems(in: config)
    if !pluginProblems.isEmpty {
        Output.standardError("plugboard: plugins that cannot be loaded in \(configDirectory):\n")
        for problem in pluginProblems { Output.standardError("\(problem.message) (plugin '\(problem.plugin)')\n") }
        exit(1)
    }
    let names = config.servers.map(\.name).joined(separator: ", ")
    Output.standardOutput("\(configDirectory): OK (\(config.servers.count) server(s): \(names))\n")
    for server in config.servers where server.enabled {
        guard case .stdio(let command, _, let environment, _) = server.transport else { continue }
        let path = environment["PATH"] ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        if !isExecutable(command, searching: path) {
            Output.standardError(
                "warning: server '\(server.name)': command '\(command)' is \(command.contains("/") ? "not an executable file" : "not found on PATH (\(path))"); calls to it will fail until it is installed\n")
        }
    }
case .run:
    HeapPolicy.keepFreedMemory()
    let config = loadConfig(configDirectory)
    let files = RuntimeFiles(configDirectory: config.directory)
    let supervisorOptions = SupervisorOptions(
        statusFile: options.statusFile ?? files.statusFile, pidFile: options.pidFile ?? files.pidFile,
        notifyDescriptor: options.notifyDescriptor, watch: options.watch, listenPath: options.listenPath,
        httpListen: options.httpListen, adminListen: options.adminListen)
    let log = logger(for: options, config: config)
    if config.core.isolates(servingStdio: supervisorOptions.servesStdio(config)) && !CoreHost.isCore {
        // This process holds the client and restarts the core; the core is this program again.
        exit(CoreHost(config: config, arguments: Array(CommandLine.arguments.dropFirst()), options: supervisorOptions, log: log).run())
    }
    exit(Supervisor(config: config, options: supervisorOptions, log: log).run())
case .status:
    // Only the instance's files are needed: no secret the configuration refers to must be at hand.
    let files = RuntimeFiles(configDirectory: ConfigLoader.absoluteDirectory(configDirectory))
    exit(StatusCommand.run(pidFile: options.pidFile ?? files.pidFile, statusFile: options.statusFile ?? files.statusFile))
case .call:
    let config = loadConfig(configDirectory)
    var arguments = JSONValue.object([:])
    if options.positional.count == 2 {
        do {
            arguments = try JSONParser.parse(options.positional[1])
        } catch {
            fail("ARGUMENTS_JSON is not valid JSON: \(error)")
        }
    }
    signal(SIGPIPE, SIG_IGN)
    let log = logger(for: PlugboardInvocationDefaults.quiet(options), config: config)
    exit(OneShotCall.run(config: config, tool: options.positional[0], arguments: arguments, printJSON: options.printJSON, log: log))
case .authLogin, .authStatus, .authLogout:
    let config = loadConfig(configDirectory)
    signal(SIGPIPE, SIG_IGN)
    let action: AuthCommand.Action =
        switch options.command {
        case .authLogin: .login(server: options.positional[0], options.login)
        case .authLogout: .logout(server: options.positional[0])
        default: .status
        }
    exit(AuthCommand.run(action, config: config, log: logger(for: PlugboardInvocationDefaults.quiet(options), config: config)))
case .pluginNew:
    do {
        let paths = try PluginScaffold.create(name: options.positional[0], in: options.pluginsDirectory)
        Output.standardOutput(paths.map { "created \($0)\n" }.joined())
    } catch {
        Output.standardError("plugboard: \(error)\n")
        exit(1)
    }
case .pluginRun:
    guard let inputFile = options.inputFile else { fail("plugin run needs --input FILE.json") }
    let file = options.positional[0].hasPrefix("/") ? options.positional[0] : currentDirectory() + "/" + options.positional[0]
    let input: JSONValue
    do {
        input = try JSONParser.parse(try readFile(inputFile))
    } catch {
        fail("cannot read \(inputFile): \(error)")
    }
    do {
        let outcome = try PluginTrial.run(
            file: file, phase: options.phase, input: options.explain ? PluginExplanation.asking(input) : input, timeout: options.timeout,
            log: logger(for: options, config: nil))
        if let failure = outcome.failure {
            Output.standardError("\(failure)\n")
            exit(1)
        }
        Output.standardOutput((outcome.output ?? .null).serializedString + "\n")
        if options.explain {
            Output.standardError(PluginExplanation.report(of: outcome.output) ?? "the plugin explained nothing (it does not read config.explain)\n")
        }
        Output.standardError("ok in \((outcome.milliseconds * 100).rounded() / 100) ms\n")
    } catch {
        Output.standardError("plugboard: \(error)\n")
        exit(1)
    }
}

enum PlugboardInvocationDefaults {
    /// `call` prints results on stdout; its log stays at warnings unless asked otherwise.
    static func quiet(_ options: Invocation) -> Invocation {
        var copy = options
        if copy.logLevel == nil { copy.logLevel = .warning }
        return copy
    }
}

/// Whether `command` names an executable file: the path itself when it has a `/`, else a file on `path`.
func isExecutable(_ command: String, searching path: String) -> Bool {
    if command.contains("/") { return access(command, X_OK) == 0 }
    return path.split(separator: ":").contains { directory in access("\(directory.isEmpty ? "." : directory)/\(command)", X_OK) == 0 }
}

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
    return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
}

struct ReadError: Error, CustomStringConvertible {
    let path: String
    let code: Int32
    var description: String { String(cString: strerror(code)) }
}

func readFile(_ path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw ReadError(path: path, code: errno) }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw ReadError(path: path, code: errno)
        }
        if count == 0 { return bytes }
        bytes += chunk[..<count]
    }
}
