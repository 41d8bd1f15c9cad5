import Foundation
import Glibc
import JSON
import Processes
import Testing

/// Daemon mode: `plugboard run --listen SOCKET`, one MCP session per connection.
@Suite("serving clients on a Unix socket", .serialized)
struct SocketFrontendTests {
    /// A client connection speaking newline-delimited JSON-RPC.
    final class SocketClient {
        let descriptor: Int32
        private var buffer: [UInt8] = []
        /// Messages read while waiting for a response.
        private(set) var unsolicited: [JSONValue] = []

        init(path: String) throws {
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else { throw TestTimeout(waitingFor: "connect to \(path): errno \(errno)") }
        }

        deinit { close(descriptor) }

        func send(_ message: JSONValue) {
            let bytes = Array((message.serializedString + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }

        func response(to id: Int) throws -> JSONValue {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(buffer[..<newline])
                    buffer.removeSubrange(...newline)
                    let message = try JSONParser.parse(line)
                    if message["id"] == .number(JSONNumber(id)) { return message }
                    unsolicited.append(message)
                    continue
                }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 15_000) > 0 else { throw TestTimeout(waitingFor: "response \(id)") }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let count = read(descriptor, &chunk, chunk.count)
                guard count > 0 else { throw TestTimeout(waitingFor: "response \(id) before EOF") }
                buffer += chunk[..<count]
            }
        }

        func request(_ id: Int, _ method: String, _ params: JSONValue) throws -> JSONValue {
            send(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": .string(method), "params": params])
            return try response(to: id)
        }

        func initialize(_ name: String) throws -> JSONValue {
            let result = try request(
                1, "initialize",
                ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": .string(name), "version": "1"]])
            send(["jsonrpc": "2.0", "method": "notifications/initialized"])
            return result
        }
    }

    /// plugboard in daemon mode on the demo server, and a first client once the socket accepts.
    static func daemon() throws -> (PlugboardUnderTest, String, SocketClient) {
        let config = try TemporaryConfig.demo()
        let socketPath = config.directory + "/plugboard.sock"
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--listen", socketPath, "--no-watch"])
        for _ in 0..<100 {
            if let client = try? SocketClient(path: socketPath) { return (plugboard, socketPath, client) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestTimeout(waitingFor: "plugboard to listen on \(socketPath)")
    }

    @Test("two clients share the upstreams; one leaving mid-call does not disturb the other; SIGTERM removes the socket")
    func twoClients() throws {
        let (plugboard, socketPath, first) = try Self.daemon()
        let second = try SocketClient(path: socketPath)
        #expect(try first.initialize("first")["result"]?["protocolVersion"] == "2025-06-18")
        #expect(try second.initialize("second")["result"]?["protocolVersion"] == "2025-06-18")

        var leaving: SocketClient? = try SocketClient(path: socketPath)
        _ = try leaving?.initialize("leaving")
        leaving?.send(["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["name": "slow", "arguments": ["ms": 2000]]])
        Thread.sleep(forTimeInterval: 0.2)
        leaving = nil

        let one = try first.request(2, "tools/call", ["name": "echo", "arguments": ["text": "one"]])
        let two = try second.request(2, "tools/call", ["name": "echo", "arguments": ["text": "two"]])
        #expect(one.firstText == "one")
        #expect(two.firstText == "two")

        kill(plugboard.process.pid, SIGTERM)
        #expect(plugboard.process.waitForExit(timeout: .seconds(15)) == .exited(0))
        #expect(access(socketPath, F_OK) != 0, "the socket file was left behind")
    }

    @Test("two clients using the same progress token each get only their own progress, under their own token")
    func progressTokensDoNotCollide() throws {
        let (plugboard, socketPath, first) = try Self.daemon()
        let second = try SocketClient(path: socketPath)
        _ = try first.initialize("first")
        _ = try second.initialize("second")
        for (client, steps) in [(first, 2), (second, 3)] {
            client.send([
                "jsonrpc": "2.0", "id": 5, "method": "tools/call",
                "params": ["name": "progress", "arguments": ["steps": .number(JSONNumber(steps)), "delay_ms": 30], "_meta": ["progressToken": 7]],
            ])
        }
        #expect(try first.response(to: 5)["result"] != nil)
        #expect(try second.response(to: 5)["result"] != nil)
        let firstProgress = first.unsolicited.filter { $0["method"] == "notifications/progress" }
        let secondProgress = second.unsolicited.filter { $0["method"] == "notifications/progress" }
        #expect(firstProgress.count == 2)
        #expect(secondProgress.count == 3)
        #expect((firstProgress + secondProgress).allSatisfy { $0["params"]?["progressToken"] == 7 })
        _ = plugboard
    }
}

extension SocketFrontendTests {
    @Test("a client that stops reading is slowed, then ended visibly: its calls abandoned, never counted as answered; others go on")
    func clientThatStopsReading() throws {
        let config = try TemporaryConfig.demo(extra: "max_queued_bytes = 4194304")
        let socketPath = config.directory + "/plugboard.sock"
        let statusFile = config.directory + "/status.json"
        let plugboard = try PlugboardUnderTest(config: config, extraArguments: ["--listen", socketPath, "--no-watch", "--status-file", statusFile])
        var first: SocketClient?
        for _ in 0..<100 where first == nil {
            first = try? SocketClient(path: socketPath)
            if first == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let deaf = try #require(first)
        _ = try deaf.initialize("deaf")
        for id in 10..<58 {
            deaf.send(["jsonrpc": "2.0", "id": .number(JSONNumber(id)), "method": "tools/call", "params": ["name": "payload", "arguments": ["bytes": 1_000_000]]])
        }
        let other = try SocketClient(path: socketPath)
        _ = try other.initialize("other")
        var accounting: JSONValue = .null
        let settled = plugboard.eventually(20) {
            accounting = (try? plugboard.status(statusFile: statusFile))?["proxy"]?["accounting"] ?? .null
            return accounting["abandoned"]?.int64Value ?? 0 > 0 && accounting["unanswered"] == 0
        }
        #expect(settled, "\(accounting.serializedString)")
        func count(_ key: String) -> Int64 { accounting[key]?.int64Value ?? -1 }
        #expect(count("received") == count("answeredOK") + count("answeredError") + count("abandoned") + count("cancelled") + count("duplicateIDs"))
        #expect(count("answeredOK") < 48 + 2, "answers the client never read are not counted as answered")
        let pong = try other.request(2, "ping", [:])
        #expect(pong["result"] != nil)
    }
}
