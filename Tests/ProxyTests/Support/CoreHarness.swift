import Config
import Foundation
import IO
import JSON
import JSONRPC
import Logging
import Testing

@testable import Proxy

/// A `ProxyCore` on a hand-driven loop over a manual clock, whose upstream servers are fakes the
/// test plays: nothing runs until the test lets the loop turn, and no time passes until it says.
final class CoreHarness {
    let clock = LoopClock.manual()
    let loop: EventLoop
    let core: ProxyCore
    /// Every link the core opened, per server, in order: one per life of the server.
    private(set) var links: [String: [FakeUpstream]] = [:]
    /// How each server's fakes behave when the core opens them.
    var eras: [String: ProtocolEra] = [:]
    /// Servers whose next lives end as soon as they are opened, with this reason.
    var startFailures: [String: String] = [:]

    /// `servers` are TOML tables under `[servers.NAME]`; commands are never run.
    init(servers: [String: String] = ["demo": ""], limits: String = "", eras: [String: ProtocolEra] = [:]) throws {
        loop = EventLoop.forTesting(clock: clock)
        self.eras = eras
        var toml = "[limits]\n\(limits)\n"
        for (name, body) in servers.sorted(by: { $0.key < $1.key }) {
            let health = body.contains("health_check_interval") ? "" : "health_check_interval = \"0s\"\n"
            toml += "[servers.\(name)]\ncommand = \"fake-\(name)\"\n\(health)\(body)\n"
        }
        let config = try Self.load(toml)
        let output = LogOutput(descriptor: STDERR_FILENO)
        output.configure(level: .error, format: .human)
        var made: (UpstreamServer) -> UpstreamLink = { _ in fatalError() }
        core = ProxyCore(config: config, loop: loop, log: Logger(component: "test", output: output), plugins: nil, makeLink: { made($0) })
        made = { [unowned self] server in
            let fake = FakeUpstream(
                name: server.name, era: self.eras[server.name] ?? .legacy, loop: self.loop, exitOnOpen: self.startFailures[server.name])
            self.links[server.name, default: []].append(fake)
            return fake
        }
        core.start()
        settle()
    }

    static func load(_ toml: String) throws -> PlugboardConfig {
        let directory = NSTemporaryDirectory() + "plugboard-core-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try toml.write(toFile: directory + "/plugboard.toml", atomically: true, encoding: .utf8)
        return try ConfigLoader.load(directory: directory, environment: { _ in nil })
    }

    /// The live link of `server`.
    func upstream(_ server: String = "demo") -> FakeUpstream {
        guard let link = links[server]?.last else { fatalError("'\(server)' has no link") }
        return link
    }

    func connect(_ label: String = "client") -> FakeClient {
        let client = FakeClient()
        client.session = core.openSession(label: label) { [unowned client] message in client.received(message) }
        client.core = core
        return client
    }

    /// Runs everything that is ready until nothing is.
    func settle() { loop.runPending() }

    func advance(seconds: Double) {
        clock.advance(by: UInt64(seconds * 1e9))
        settle()
    }

    var accounting: ProxyStatus.Accounting { core.status.accounting }
}

/// A client session: what the core delivered to it, parsed.
final class FakeClient {
    var session: ClientSession!
    var core: ProxyCore!
    private(set) var messages: [JSONValue] = []

    func received(_ message: [UInt8]) {
        guard let parsed = try? JSONParser.parse(message) else {
            Issue.record("the core sent invalid JSON: \(String(decoding: message, as: UTF8.self))")
            return
        }
        messages.append(parsed)
    }

    func send(_ message: [UInt8]) { core.receive(message, from: session) }

    func request(_ id: JSONRPCID, _ method: String, _ params: JSONValue? = nil) {
        send(JSONRPCMessage.request(id: id, method: method, params: params))
    }

    func initialize(version: String = "2025-06-18") {
        request(.string("init"), "initialize", ["protocolVersion": .string(version), "capabilities": [:], "clientInfo": ["name": "test", "version": "1"]])
    }

    /// The answer to the request whose id serializes as `idText`, if one came.
    func answer(to id: JSONRPCID) -> JSONValue? {
        let text = id.jsonBytes
        return messages.first { $0["id"]?.serialized() == text && $0["method"] == nil }
    }

    func notifications(_ method: String) -> [JSONValue] {
        messages.filter { $0["method"]?.stringValue == method && $0["id"] == nil }
    }
}

/// One life of a fake upstream server: it answers the handshake by itself and leaves every
/// other request for the test to answer, fail or ignore.
final class FakeUpstream: UpstreamLink {
    let name: String
    let era: ProtocolEra
    private let loop: EventLoop
    var onMessage: ([UInt8], Int64?) -> Void = { _, _ in }
    var onClosed: (String) -> Void = { _ in }
    /// Requests the core sent that the test has not answered yet, oldest first.
    private(set) var requests: [JSONValue] = []
    private(set) var notifications: [JSONValue] = []
    private(set) var isOpen = false
    private(set) var closedBy: String?

    private let exitOnOpen: String?

    init(name: String, era: ProtocolEra, loop: EventLoop, exitOnOpen: String? = nil) {
        self.name = name
        self.era = era
        self.loop = loop
        self.exitOnOpen = exitOnOpen
    }

    var processID: Int32? { nil }
    var endpoint: String { "fake-\(name)" }

    func open() {
        isOpen = true
        if let exitOnOpen { exit(exitOnOpen) }
    }

    func send(_ message: [UInt8]) -> PipeChannel.SendOutcome {
        guard isOpen, let parsed = try? JSONParser.parse(message) else { return .closed }
        guard let method = parsed["method"]?.stringValue else { return .written }  // a response to a server request
        guard let id = parsed["id"] else {
            notifications.append(parsed)
            return .written
        }
        switch (method, era) {
        case ("server/discover", .legacy):
            deliver(JSONRPCMessage.error(idText: id.serialized(), code: -32601, message: "Method not found"))
        case ("server/discover", .modern):
            deliver(JSONRPCMessage.success(idText: id.serialized(), result: [
                "supportedVersions": ["2026-07-28"], "capabilities": ["tools": [:]],
                "_meta": ["io.modelcontextprotocol/serverInfo": ["name": .string(name), "version": "1"]],
            ]))
        case ("initialize", _):
            deliver(JSONRPCMessage.success(idText: id.serialized(), result: [
                "protocolVersion": parsed["params"]?["protocolVersion"] ?? "2025-06-18", "capabilities": ["tools": [:]],
                "serverInfo": ["name": .string(name), "version": "1"],
            ]))
        default:
            requests.append(parsed)
        }
        return .written
    }

    func close() { exit("closed") }
    func abort() { exit("aborted") }

    /// The server process ends: the core hears it on the next turn of the loop.
    func exit(_ reason: String) {
        guard isOpen else { return }
        isOpen = false
        closedBy = reason
        loop.schedule(afterNanoseconds: 0) { [self] in onClosed(reason) }
    }

    /// Answers the oldest open request for `method` with `result`; returns its id.
    @discardableResult
    func answer(_ method: String, result: JSONValue) -> JSONValue? {
        guard let index = requests.firstIndex(where: { $0["method"]?.stringValue == method }), let id = requests[index]["id"] else {
            Issue.record("'\(name)' has no open \(method) request")
            return nil
        }
        requests.remove(at: index)
        deliver(JSONRPCMessage.success(idText: id.serialized(), result: result))
        return id
    }

    /// Sends a raw line, as a server might (a notification, a malformed answer).
    func deliver(_ message: [UInt8]) {
        loop.schedule(afterNanoseconds: 0) { [self] in onMessage(message, nil) }
    }
}
