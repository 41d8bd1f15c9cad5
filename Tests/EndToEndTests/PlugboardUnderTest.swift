import Foundation
import Glibc
import JSON
import Processes

/// Paths of the checkout the tests run in.
enum Checkout {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var plugboardBinary: String {
        if let override = ProcessInfo.processInfo.environment["PLUGBOARD_BIN"] { return override }
        return root + "/.build/debug/plugboard"
    }

    static let demoServer = root + "/contrib/demo-server/server.mjs"
    static let docsServer = root + "/contrib/demo-docs/server.mjs"
}

/// A throwaway configuration directory holding one `plugboard.toml`.
struct TemporaryConfig {
    let directory: String

    init(_ toml: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
        try toml.write(to: path.appendingPathComponent("plugboard.toml"), atomically: true, encoding: .utf8)
        directory = path.path
    }

    /// A config with the demo server under each given name.
    static func demo(servers: [String] = ["demo"], extra: String = "", serverExtra: String = "") throws -> TemporaryConfig {
        var toml = "[limits]\nrequest_timeout = \"10s\"\nshutdown_timeout = \"3s\"\n\(extra)\n"
        for name in servers {
            toml += """
                [servers.\(name)]
                command = "node"
                args = ["\(Checkout.demoServer)"]
                env = { DEMO_SERVER_NAME = "\(name)" }
                restart_backoff_initial = "100ms"
                \(serverExtra)

                """
        }
        return try TemporaryConfig(toml)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

struct TestTimeout: Error, CustomStringConvertible {
    let waitingFor: String
    var description: String { "timed out waiting for \(waitingFor)" }
}

/// The built `plugboard run` binary as a client sees it: lines in, lines out.
final class PlugboardUnderTest {
    let process: ChildProcess
    private var buffer: [UInt8] = []
    /// Messages that arrived while the test waited for something else.
    private(set) var unsolicited: [JSONValue] = []
    private(set) var stdoutLines: [String] = []
    private var nextID = 1
    let config: TemporaryConfig

    /// `launcher`: a command that runs plugboard, such as `["/usr/bin/prlimit", "--nofile=64:64"]`.
    init(config: TemporaryConfig, extraArguments: [String] = [], environment extra: [String: String] = [:], launcher: [String] = []) throws {
        self.config = config
        var environment = ProcessInfo.processInfo.environment
        environment["PLUGBOARD_TEST"] = "1"
        // Sanitizer runs check plugboard, not the test runner: its own options, when given.
        if let options = environment["PLUGBOARD_ASAN_OPTIONS"] { environment["ASAN_OPTIONS"] = options }
        environment.merge(extra) { $1 }
        let command = launcher + [Checkout.plugboardBinary, "run", "--config", config.directory, "--log-level", "debug"] + extraArguments
        process = try ChildProcess.spawn(
            ChildProcess.Configuration(
                executable: command[0],
                arguments: Array(command.dropFirst()),
                environment: environment, workingDirectory: Checkout.root,
                standardInput: .pipe, standardOutput: .pipe, standardError: .inherit))
    }

    deinit {
        // Long enough for plugboard's own stop sequence (stdin EOF, SIGTERM, SIGKILL) so that no
        // upstream is orphaned by killing plugboard first.
        if process.exitStatus == nil { _ = process.terminate(gracePeriod: .seconds(10)) }
        config.remove()
    }

    func sendLine(_ text: String) throws {
        try process.standardInput!.writeAll(Array((text + "\n").utf8))
    }

    func send(_ message: JSONValue) throws {
        try sendLine(message.serializedString)
    }

    func closeInput() {
        process.standardInput?.close()
    }

    /// Sends a request with a fresh integer id and waits for its response.
    @discardableResult
    func request(_ method: String, _ params: JSONValue = .object([:]), timeout: Double = 15) throws -> JSONValue {
        let id = nextID
        nextID += 1
        try send(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": .string(method), "params": params])
        return try response(to: .number(JSONNumber(id)), timeout: timeout)
    }

    func notify(_ method: String, _ params: JSONValue = .object([:])) throws {
        try send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }

    /// Initializes the session like a 2025-11-25 client with sampling, roots and elicitation.
    @discardableResult
    func initialize(version: String = "2025-11-25") throws -> JSONValue {
        let result = try request(
            "initialize",
            [
                "protocolVersion": .string(version),
                "capabilities": ["sampling": [:], "roots": ["listChanged": true], "elicitation": [:]],
                "clientInfo": ["name": "e2e-tests", "version": "1.0"],
            ])
        try notify("notifications/initialized")
        return result
    }

    func response(to id: JSONValue, timeout: Double = 15) throws -> JSONValue {
        try waitFor("response to \(id.serializedString)", timeout: timeout) { message in
            message["id"] == id && (message["result"] != nil || message["error"] != nil)
        }
    }

    /// Returns the first message, earlier unsolicited ones included, that satisfies `matches`.
    func waitFor(_ what: String, timeout: Double = 15, _ matches: (JSONValue) -> Bool) throws -> JSONValue {
        if let index = unsolicited.firstIndex(where: matches) {
            return unsolicited.remove(at: index)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0, let line = try readLine(timeout: remaining) else { throw TestTimeout(waitingFor: what) }
            let message = try JSONParser.parse(Array(line.utf8))
            if matches(message) { return message }
            unsolicited.append(message)
        }
    }

    /// Next stdout line, or nil at EOF or timeout.
    func readLine(timeout: Double) throws -> String? {
        let descriptor = process.standardOutput!
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                stdoutLines.append(line)
                return line
            }
            var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, timeout * 1000)))
            if ready == 0 { return nil }
            if ready < 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
            if count == 0 { return nil }
            buffer += chunk[..<count]
        }
    }

    /// Waits for the process to exit after stdin closes, reading what is left on stdout.
    func waitForExit(timeout: Double) -> ExitStatus? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            if (try? readLine(timeout: 0.05)) == nil, let status = process.exitStatus { return status }
        }
        return process.exitStatus
    }
}

extension JSONValue {
    /// The text of the first content block of a tool result.
    var firstText: String? { self["result"]?["content"]?[0]?["text"]?.stringValue }
}
