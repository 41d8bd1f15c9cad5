import Foundation
import Glibc
import JSON
import Processes
import Testing

/// Reloads build a new generation beside the live one and switch only when it is whole.
@Suite("live reloads", .serialized)
struct ReloadTests {
    static let pluginsDirectory = Checkout.root + "/Tests/EndToEndTests/Fixtures/plugins"

    static func configText(servers: [String], plugin: String? = nil, extra: String = "") -> String {
        var toml = "plugins_dir = \"PLUGINS\"\n[limits]\nshutdown_timeout = \"3s\"\n[plugins]\ntimeout = \"5s\"\n\(extra)\n"
        for name in servers {
            toml += "[servers.\(name)]\ncommand = \"node\"\nargs = [\"\(Checkout.demoServer)\"]\n"
            if let plugin {
                toml += "[[servers.\(name).plugins.response]]\nplugin = \"\(plugin)\"\ntools = [\"echo\"]\n"
            }
        }
        return toml
    }

    /// A private plugins directory the test may edit.
    static func pluginsCopy() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-plugins-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    static func write(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        rename(temporary, path)
    }

    @Test("SIGHUP adopts an added server and announces list_changed; a broken file is rejected and the live generation keeps serving")
    func sighupReload() throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let config = try TemporaryConfig(Self.configText(servers: ["alpha", "beta"]).replacingOccurrences(of: "PLUGINS", with: plugins))
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--no-watch"])
        try plugboard.initialize()
        let file = config.directory + "/plugboard.toml"

        try Self.write(Self.configText(servers: ["alpha", "beta", "gamma"]).replacingOccurrences(of: "PLUGINS", with: plugins), to: file)
        kill(plugboard.process.pid, SIGHUP)
        _ = try plugboard.waitFor("tools/list_changed") { $0["method"] == "notifications/tools/list_changed" }
        let tools = try plugboard.request("tools/list")["result"]?["tools"]?.arrayValue ?? []
        #expect(tools.contains { $0["name"] == "gamma__echo" })
        #expect(try plugboard.request("tools/call", ["name": "gamma__echo", "arguments": ["text": "new"]]).firstText == "new")

        try Self.write("[servers.alpha\ncommand = 1\n", to: file)
        kill(plugboard.process.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try plugboard.request("tools/call", ["name": "gamma__echo", "arguments": ["text": "still"]]).firstText == "still")
    }

    @Test("a changed plugin is loaded by a canary first; a syntax error keeps the old code serving; the fix goes live")
    func pluginReload() throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        try Self.write("export default (input) => ({ text: 'v1:' + input.rawContent })\n", to: plugins + "/tag.mjs")
        let config = try TemporaryConfig(Self.configText(servers: ["demo"], plugin: "tag").replacingOccurrences(of: "PLUGINS", with: plugins))
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--no-watch"])
        try plugboard.initialize()
        #expect(try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "a"]]).firstText == "v1:a")

        try Self.write("export default (input) => ({ text: 'v2:' + input.rawContent \n", to: plugins + "/tag.mjs")
        kill(plugboard.process.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "b"]]).firstText == "v1:b")

        try Self.write("export default (input) => ({ text: 'v3:' + input.rawContent })\n", to: plugins + "/tag.mjs")
        kill(plugboard.process.pid, SIGHUP)
        var text: String?
        for _ in 0..<50 {
            text = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "c"]]).firstText
            if text == "v3:c" { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(text == "v3:c")
    }

    @Test(
        "saving a plugin file reloads it with no signal, exactly once; saving identical bytes reloads nothing",
        arguments: ["in one process", "with the core a child, the outer process watching"])
    func watchedPluginReload(shape: String) throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let source = "export default (input) => ({ text: 'v1:' + input.rawContent })\n"
        try Self.write(source, to: plugins + "/tag.mjs")
        let extra = shape == "in one process" ? "" : "[core]\nisolate = true"
        let config = try TemporaryConfig(
            Self.configText(servers: ["demo"], plugin: "tag", extra: extra).replacingOccurrences(of: "PLUGINS", with: plugins))
        let statusFile = config.directory + "/status.json"
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--status-file", statusFile])
        try plugboard.initialize()
        #expect(try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "a"]]).firstText == "v1:a")

        try Self.write(source.replacingOccurrences(of: "v1", with: "v2"), to: plugins + "/tag.mjs")
        var text: String?
        for _ in 0..<60 where text != "v2:b" {
            text = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "b"]]).firstText
            if text != "v2:b" { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(text == "v2:b")

        try Self.write(source.replacingOccurrences(of: "v1", with: "v2"), to: plugins + "/tag.mjs")
        Thread.sleep(forTimeInterval: 0.6)
        kill(plugboard.process.pid, SIGUSR1)
        Thread.sleep(forTimeInterval: 0.3)
        let status = try JSONParser.parse(Array(try String(contentsOfFile: statusFile, encoding: .utf8).utf8))
        #expect(status["reloads"] == 1, "\(status["lastReload"]?.serializedString ?? "")")
        #expect(status["generation"]?["number"] == 2)
        #expect(status["watcher"]?["changeSets"] == 1)
        #expect(status["core"]?["isolated"] == .bool(shape != "in one process"))
    }

    @Test("calls in flight while a plugin is rewritten 100 times all succeed, each through one version only")
    func noCallLostAcrossReloads() throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        func source(_ version: Int) -> String {
            """
            export default {
              request(input) { return { arguments: { ...input.arguments, text: "q\(version):" + input.arguments.text } } },
              response(input) { return { text: "r\(version):" + input.rawContent } },
            }

            """
        }
        try Self.write(source(0), to: plugins + "/tag.mjs")
        var toml = Self.configText(servers: ["demo"], plugin: "tag").replacingOccurrences(of: "PLUGINS", with: plugins)
        toml += "[[servers.demo.plugins.request]]\nplugin = \"tag\"\ntools = [\"echo\"]\n"
        let plugboard = try PlugboardUnderTest(config: try TemporaryConfig(toml))
        try plugboard.initialize()
        var nextID = 100
        var answers: [JSONValue] = []
        for version in 1...100 {
            let ids = (0..<2).map { _ in nextID += 1; return nextID }
            for id in ids {
                try plugboard.send(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": ["name": "echo", "arguments": ["text": "x"]]])
            }
            try Self.write(source(version), to: plugins + "/tag.mjs")
            Thread.sleep(forTimeInterval: 0.06)
            for id in ids { answers.append(try plugboard.response(to: .number(JSONNumber(id)), timeout: 20)) }
        }
        #expect(answers.count == 200)
        for answer in answers {
            let text = answer.firstText ?? "error: \(answer.serializedString)"
            let parts = text.split(separator: ":")
            #expect(parts.count == 3 && parts[0].dropFirst() == parts[1].dropFirst() && parts[2] == "x", "mixed or failed: \(text)")
        }
    }

    @Test("calls in flight while the config adds and removes a server 20 times all succeed; no child is left behind")
    func noCallLostAcrossConfigEdits() throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        func text(_ servers: [String]) -> String {
            Self.configText(servers: servers).replacingOccurrences(of: "PLUGINS", with: plugins) + "[expose]\nmode = \"aggregate\"\n"
        }
        let config = try TemporaryConfig(text(["alpha"]))
        let file = config.directory + "/plugboard.toml"
        let plugboard = try PlugboardUnderTest(config: config)
        try plugboard.initialize()
        var nextID = 500
        var failures: [String] = []
        for round in 1...20 {
            let servers = round % 2 == 1 ? ["alpha", "gamma"] : ["alpha"]
            let ids = (0..<3).map { _ in nextID += 1; return nextID }
            for id in ids {
                try plugboard.send([
                    "jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call",
                    "params": ["name": "alpha__slow", "arguments": ["ms": 150]],
                ])
            }
            try Self.write(text(servers), to: file)
            Thread.sleep(forTimeInterval: 0.25)
            for id in ids {
                let answer = try plugboard.response(to: .number(JSONNumber(id)), timeout: 20)
                if answer["result"] == nil { failures.append(answer.serializedString) }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        plugboard.closeInput()
        #expect(plugboard.waitForExit(timeout: 15) == .exited(0))
        #expect(ProcessTable.zombieChildren(of: plugboard.process.pid).isEmpty)
        let leftovers = (try? String(contentsOfFile: "/proc/\(plugboard.process.pid)/task/\(plugboard.process.pid)/children", encoding: .utf8)) ?? ""
        #expect(leftovers.trimmingCharacters(in: .whitespaces).isEmpty, "children still running: \(leftovers)")
    }

    @Test("each way of saving a plugin reloads exactly once; touch and chmod reload nothing; a syntax error is rejected and its fix goes live")
    func savePatternsAgainstARunningPlugboard() throws {
        let plugins = try Self.pluginsCopy()
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let file = plugins + "/tag.mjs"
        func source(_ version: String) -> String { "export default (input) => ({ text: '\(version):' + input.rawContent })\n" }
        try Self.write(source("v0"), to: file)
        let config = try TemporaryConfig(Self.configText(servers: ["demo"], plugin: "tag").replacingOccurrences(of: "PLUGINS", with: plugins))
        let statusFile = config.directory + "/status.json"
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--status-file", statusFile])
        try plugboard.initialize()

        func reloads() throws -> Int {
            kill(plugboard.process.pid, SIGUSR1)
            Thread.sleep(forTimeInterval: 0.15)
            let status = try JSONParser.parse(Array(try String(contentsOfFile: statusFile, encoding: .utf8).utf8))
            return Int(status["reloads"]?.int64Value ?? -1)
        }
        func shell(_ command: String) {
            let process = try? ChildProcess.spawn(ChildProcess.Configuration(
                executable: "/bin/sh", arguments: ["-c", command], workingDirectory: plugins,
                standardInput: .discard, standardOutput: .discard, standardError: .discard))
            _ = process?.waitForExit(timeout: .seconds(10))
        }
        func expectReloads(_ expected: Int, after label: String) throws {
            var seen = try reloads()
            for _ in 0..<20 where seen < expected {
                Thread.sleep(forTimeInterval: 0.1)
                seen = try reloads()
            }
            Thread.sleep(forTimeInterval: 0.4)
            #expect(try reloads() == expected, "after \(label)")
        }
        func expectServed(_ version: String) throws {
            var text: String?
            for _ in 0..<40 where text != "\(version):x" {
                text = try plugboard.request("tools/call", ["name": "echo", "arguments": ["text": "x"]]).firstText
                if text != "\(version):x" { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(text == "\(version):x")
        }

        shell("sed -i 's/v0/v1/' tag.mjs")
        try expectReloads(1, after: "sed -i")
        try expectServed("v1")
        shell("printf \"%s\" \"\(source("v2"))\" > /tmp/tag-$$.mjs && cp /tmp/tag-$$.mjs tag.mjs && rm /tmp/tag-$$.mjs")
        try expectReloads(2, after: "cp")
        try expectServed("v2")
        shell(": > tag.mjs; printf \"%s\" \"\(source("v3"))\" >> tag.mjs")
        try expectReloads(3, after: "truncate and write")
        try expectServed("v3")
        shell("printf x > .tag.mjs.swp && printf x > 4913 && rm 4913 && mv tag.mjs tag.mjs~ && printf \"%s\" \"\(source("v4"))\" > tag.mjs && rm tag.mjs~ .tag.mjs.swp")
        try expectReloads(4, after: "a vim-style save")
        try expectServed("v4")
        shell("touch tag.mjs && chmod 600 tag.mjs && chmod 644 tag.mjs")
        try expectReloads(4, after: "touch and chmod")
        shell("printf \"%s\" \"export default (input) => ({ text: 'v5:' \" > tag.mjs")
        try expectReloads(5, after: "a syntax error")
        try expectServed("v4")
        shell("printf \"%s\" \"\(source("v6"))\" > tag.mjs")
        try expectReloads(6, after: "the fix")
        try expectServed("v6")
    }

    @Test("a service manager hears READY, then RELOADING with MONOTONIC_USEC, READY again, then STOPPING")
    func systemdNotifications() throws {
        let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path
        let listener = try DatagramListener(path: socketPath)
        defer { listener.close() }
        let plugboard = try PlugboardUnderTest(
            config: .demo(), extraArguments: ["--no-watch"], environment: ["NOTIFY_SOCKET": socketPath])
        try plugboard.initialize()
        kill(plugboard.process.pid, SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        plugboard.closeInput()
        _ = plugboard.waitForExit(timeout: 10)
        let messages = listener.drain()
        let kinds = messages.compactMap { message in
            ["READY=1", "RELOADING=1", "STOPPING=1"].first { message.hasPrefix($0) }
        }
        #expect(kinds == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], "\(messages)")
        #expect(messages.first { $0.hasPrefix("RELOADING=1") }?.contains("MONOTONIC_USEC=") == true)
    }
}

/// A Unix datagram socket standing in for systemd's notify socket.
final class DatagramListener {
    let descriptor: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw TestTimeout(waitingFor: "bind \(path): errno \(errno)") }
        _ = fcntl(descriptor, F_SETFL, O_NONBLOCK)
    }

    func drain() -> [String] {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return messages }
            messages.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }

    func close() {
        Glibc.close(descriptor)
        unlink(path)
    }
}
