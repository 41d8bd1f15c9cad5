import Foundation
import Glibc
import JSON
import Processes
import Testing

/// The executable's own surface: commands, exit statuses, signals.
@Suite("the plugboard command", .serialized)
struct CommandLineTests {
    /// Runs plugboard to completion and returns its status, stdout and stderr.
    static func run(_ arguments: [String]) throws -> (status: ChildProcess.ExitStatus, stdout: String, stderr: String) {
        let process = try ChildProcess.spawn(
            ChildProcess.Configuration(
                executable: Checkout.plugboardBinary, arguments: arguments, workingDirectory: Checkout.root,
                standardInput: .discard, standardOutput: .pipe, standardError: .pipe))
        let stdout = drain(process.standardOutput!)
        let stderr = drain(process.standardError!)
        let status = process.waitForExit(timeout: .seconds(30)) ?? process.terminate(gracePeriod: .seconds(1))
        return (status, stdout, stderr)
    }

    static func drain(_ descriptor: FileDescriptor) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while let count = try? chunk.withUnsafeMutableBytes({ try descriptor.read(into: $0) }), count > 0 {
            bytes += chunk[..<count]
        }
        descriptor.close()
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("help lists the commands on stdout and exits 0; an unknown option exits 2 saying which")
    func help() throws {
        let help = try Self.run(["--help"])
        #expect(help.status == .exited(0))
        #expect(help.stdout.contains("plugboard run") && help.stdout.contains("plugboard check"))
        let wrong = try Self.run(["run", "--frobnicate"])
        #expect(wrong.status == .exited(2))
        #expect(wrong.stderr.contains("--frobnicate"))
    }

    @Test("check accepts the shipped etc/ and lists every error of a broken config with file:line:col")
    func check() throws {
        let good = try Self.run(["check", "--config", "etc"])
        #expect(good.status == .exited(0), "\(good.stderr)")
        let broken = try TemporaryConfig(
            """
            [limits]
            request_timeout = "soon"
            [servers.demo]
            comand = "node"
            """)
        defer { broken.remove() }
        let result = try Self.run(["check", "--config", broken.directory])
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("plugboard.toml:2:19"), "\(result.stderr)")
        #expect(result.stderr.contains("plugboard.toml:4:1"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean \"command\""), "\(result.stderr)")
    }

    @Test("check compiles every plugin a chain names and reports one that cannot load with file:line:col")
    func checkCompilesPlugins() throws {
        let config = try TemporaryConfig(
            """
            plugins_dir = "\(PluginChainTests.pluginsDirectory)"
            [servers.demo]
            command = "node"
            [[servers.demo.plugins.response]]
            plugin = "shout"
            [[servers.demo.plugins.response]]
            plugin = "unloadable"
            """)
        defer { config.remove() }
        let result = try Self.run(["check", "--config", config.directory])
        #expect(result.status == .exited(1))
        #expect(result.stderr.contains("unloadable.mjs:4:1: SyntaxError: Unexpected token '}' (plugin 'unloadable')"), "\(result.stderr)")
        #expect(!result.stderr.contains("shout"))
    }

    @Test("check warns, without failing, about a server whose command is not installed")
    func checkWarnsOfMissingCommands() throws {
        let config = try TemporaryConfig("[servers.nx]\ncommand = \"plugboard-no-such-command\"\n[servers.node]\ncommand = \"node\"\n")
        defer { config.remove() }
        let result = try Self.run(["check", "--config", config.directory])
        #expect(result.status == .exited(0))
        #expect(result.stderr.contains("server 'nx': command 'plugboard-no-such-command' is not found on PATH"), "\(result.stderr)")
        #expect(!result.stderr.contains("server 'node'"))
    }

    @Test("SIGTERM lets the call in flight finish, stops the upstream and exits 0; SIGUSR1 logs a status dump first")
    func signals() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-signals-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let config = try TemporaryConfig.demo()
        defer { config.remove() }
        let process = try ChildProcess.spawn(
            ChildProcess.Configuration(
                executable: "/bin/sh",
                arguments: ["-c", "exec \"$0\" run --config \"$1\" 2>\"$2\"", Checkout.plugboardBinary, config.directory, log],
                workingDirectory: Checkout.root, standardInput: .pipe, standardOutput: .pipe))
        let client = LineClient(process: process)
        try client.send(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        _ = try client.line()
        try client.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{"ms":700}}}"#)
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.pid, SIGUSR1)
        Thread.sleep(forTimeInterval: 0.1)
        kill(process.pid, SIGTERM)
        let answer = try JSONParser.parse(Array(try client.line().utf8))
        #expect(answer["id"] == 2 && answer["result"] != nil)
        #expect(process.waitForExit(timeout: .seconds(10)) == .exited(0))
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("status {"), "no status dump in: \(text)")
        #expect(text.contains("\"inFlight\":1"), "the dump should show the call in flight: \(text)")
        #expect(text.contains("stopped (exited with status 0)"), "\(text)")
    }
}

extension CommandLineTests {
    @Test("plugin run runs one plugin once through the real host and prints its output or its error")
    func pluginRun() throws {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("input-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: input) }
        try #"{"toolName":"echo","rawContent":"make me loud","metadata":{"phase":"response"},"config":{}}"#
            .write(toFile: input, atomically: true, encoding: .utf8)
        let shout = try Self.run(["plugin", "run", "Tests/EndToEndTests/Fixtures/plugins/shout.mjs", "--input", input])
        #expect(shout.status == .exited(0), "\(shout.stderr)")
        #expect(shout.stdout.contains(#""text":"MAKE ME LOUD""#))
        let sloppy = try Self.run(["plugin", "run", "Tests/EndToEndTests/Fixtures/plugins/sloppy.mjs", "--input", input])
        #expect(sloppy.status == .exited(1))
        #expect(sloppy.stderr.contains("plugin 'sloppy' (response phase) returned invalid output: unknown field \"txt\""), "\(sloppy.stderr)")
    }

    @Test("plugin run --explain asks curate why: every section with its mark, score and reasons, the kept one first among equals")
    func pluginRunExplain() throws {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("input-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: input) }
        let filler = (1...40).map { "Unrelated prose about configuration number \($0), with no bearing on the question." }.joined(separator: " ")
        var sections = (1...12).map { "## Topic \($0)\n\n\(filler)\n" }
        sections.insert("## Retry with backoff\n\nCall `retry(fn, { backoff: 'exponential' })` to retry with exponential backoff.\n", at: 5)
        let page = "# Library\n\n" + sections.joined(separator: "\n")
        let request: JSONValue = [
            "toolName": "get-library-docs", "rawContent": .string(page), "maxTokens": 400,
            "metadata": ["phase": "response", "userQuery": "retry with exponential backoff"],
            "result": ["content": [["type": "text", "text": .string(page)]]], "config": [:],
        ]
        try request.serializedString.write(toFile: input, atomically: true, encoding: .utf8)
        let explained = try Self.run(["plugin", "run", "plugins.d/curate.mjs", "--input", input, "--explain"])
        #expect(explained.status == .exited(0), "\(explained.stderr)")
        #expect(explained.stderr.contains("query terms: "), "\(explained.stderr)")
        let retry = explained.stderr.split(separator: "\n").first { $0.contains("Library › Retry with backoff") }
        #expect(retry?.hasPrefix("✔") == true, "\(explained.stderr)")
        #expect(explained.stderr.contains("✗"), "sections left out are listed too: \(explained.stderr)")
        let plain = try Self.run(["plugin", "run", "plugins.d/curate.mjs", "--input", input])
        #expect(!plain.stderr.contains("query terms: "))
    }

    @Test("plugin new scaffolds a plugin whose own tests pass, and refuses to overwrite it")
    func pluginNew() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scaffold-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = try Self.run(["plugin", "new", "tidy", "--plugins-dir", directory])
        #expect(created.status == .exited(0), "\(created.stderr)")
        let node = try ChildProcess.spawn(
            ChildProcess.Configuration(
                executable: "node", arguments: ["--test", directory + "/test/tidy.test.mjs"],
                standardInput: .discard, standardOutput: .pipe, standardError: .pipe))
        let output = Self.drain(node.standardOutput!)
        _ = Self.drain(node.standardError!)
        #expect(node.waitForExit(timeout: .seconds(30)) == .exited(0), "\(output)")
        let again = try Self.run(["plugin", "new", "tidy", "--plugins-dir", directory])
        #expect(again.status == .exited(1))
        #expect(again.stderr.contains("already exists"))
    }

    @Test("call sends one tools/call through the chains and prints the result with a line per plugin")
    func call() throws {
        let config = try TemporaryConfig(
            """
            plugins_dir = "\(Checkout.root)/Tests/EndToEndTests/Fixtures/plugins"
            [servers.demo]
            command = "node"
            args = ["\(Checkout.demoServer)"]
            [[servers.demo.plugins.response]]
            plugin = "shout"
            """)
        defer { config.remove() }
        let result = try Self.run(["call", "echo", #"{"text":"hello"}"#, "--config", config.directory])
        #expect(result.status == .exited(0), "\(result.stderr)")
        #expect(result.stdout == "HELLO\n")
        #expect(result.stderr.contains("plugin shout (response):"), "\(result.stderr)")
    }
}

/// Blocking line I/O on a child's stdin and stdout.
final class LineClient {
    let process: ChildProcess
    private var buffer: [UInt8] = []

    init(process: ChildProcess) { self.process = process }

    func send(_ line: String) throws {
        try process.standardInput!.writeAll(Array((line + "\n").utf8))
    }

    func line(timeout: Int32 = 10_000) throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                defer { buffer.removeSubrange(...newline) }
                return String(decoding: buffer[..<newline], as: UTF8.self)
            }
            var poller = pollfd(fd: process.standardOutput!.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) > 0 else { throw TestTimeout(waitingFor: "a line") }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = try chunk.withUnsafeMutableBytes { try process.standardOutput!.read(into: $0) }
            guard count > 0 else { throw TestTimeout(waitingFor: "a line before EOF") }
            buffer += chunk[..<count]
        }
    }
}
