import Foundation
import Glibc
import Processes
import Synchronization

/// An MCP server under test, spoken to over its stdin and stdout (newline-delimited
/// JSON-RPC), with the client-side bookkeeping the benchmark needs.
final class StdioTarget {
    let label: String
    let command: String
    private let child: ChildProcess
    private let input: FileDescriptor
    private let output: FileDescriptor
    private var reader: LineReader
    private var nextID = 1
    private var request: [UInt8] = []
    /// Speaks MCP 2026-07-28: no handshake, the protocol fields on every request.
    let modern: Bool

    init(label: String, command: String, modern: Bool = false) throws {
        self.modern = modern
        let words = command.split(separator: " ").map(String.init)
        guard let executable = words.first else { throw BenchError("\(label): empty command") }
        self.label = label
        self.command = command
        do {
            child = try ChildProcess.spawn(.init(executable: executable, arguments: Array(words.dropFirst())))
        } catch {
            throw BenchError("\(label): \(error)")
        }
        input = child.standardInput!
        output = child.standardOutput!
        reader = LineReader(output)
        TargetRegistry.shared.add(child)
    }

    /// CPU time the target's own process has used (user + system, not its children's), in µs.
    var cpuMicroseconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8),
            let afterName = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK))) * 1e6
    }

    /// initialize + notifications/initialized.
    func initialize() throws {
        guard !modern else { return }
        let id = takeID()
        try send(
            #"{"jsonrpc":"2.0","id":\#(id),"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"plugboard-bench","version":"1.0.0"}}}"#,
            step: "initialize")
        try awaitResponse(id: id, step: "initialize")
        try send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, step: "notifications/initialized")
    }

    private static let modernMeta =
        #"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"plugboard-bench","version":"1.0.0"}"#

    /// Sends one tools/call request and returns its id.
    @discardableResult
    func sendCall(tool: String, sizeArgument: String, size: Int) throws -> Int {
        let id = takeID()
        request.removeAll(keepingCapacity: true)
        request.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        request.append(contentsOf: String(id).utf8)
        request.append(contentsOf: #","method":"tools/call","params":{"name":""#.utf8)
        request.append(contentsOf: tool.utf8)
        request.append(contentsOf: #"","arguments":{""#.utf8)
        request.append(contentsOf: sizeArgument.utf8)
        request.append(contentsOf: #"":"#.utf8)
        request.append(contentsOf: String(size).utf8)
        if modern { request.append(contentsOf: Self.modernMeta.utf8) }
        request.append(contentsOf: "}}}\n".utf8)
        do { try input.writeAll(request) } catch {
            throw BenchError("\(label): sending tools/call \(tool): \(error.withContext("write to server stdin"))")
        }
        return id
    }

    /// The first error response received, cut short, to say what went wrong.
    private(set) var firstError: String?

    /// Reads lines until the response to `id` arrives and returns the monotonic time
    /// (ns) at which its last byte had been read. Fails on an error response.
    @discardableResult
    func awaitResponse(id: Int, step: String) throws -> UInt64 {
        let answer = try awaitCallResponse(id: id, step: step)
        if answer.isError { throw BenchError("\(label): \(step) failed: \(firstError ?? "error response")") }
        return answer.time
    }

    /// Reads lines until the response to `id` arrives; returns the monotonic time (ns) at
    /// which its last byte had been read and whether it was a JSON-RPC error response.
    func awaitCallResponse(id: Int, step: String) throws -> (time: UInt64, isError: Bool) {
        while true {
            let outcome = try readLine(step: step) { line -> (matched: Bool, isError: Bool) in
                guard line.integerMember("id") == id else { return (false, false) }
                return (true, noteIfError(line))
            }
            if outcome.value.matched { return (outcome.time, outcome.value.isError) }
        }
    }

    /// Reads one line and reports whether it is a response (has an id) and an error.
    func awaitAnyResponse(step: String) throws -> (isResponse: Bool, isError: Bool) {
        try readLine(step: step) { line in
            guard line.hasMember("id") else { return (false, false) }
            return (true, noteIfError(line))
        }.value
    }

    private func noteIfError(_ line: UnsafeRawBufferPointer) -> Bool {
        guard line.hasMember("error") else { return false }
        if firstError == nil { firstError = excerpt(line) }
        return true
    }

    private func readLine<Result>(
        step: String, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws -> (value: Result, time: UInt64) {
        let result: (Result, UInt64)?
        do {
            result = try reader.nextLine { line in
                let arrived = monotonicNanoseconds()  // before looking inside the line
                return (body(line), arrived)
            }
        } catch {
            throw BenchError("\(label): waiting for the \(step) response: \(error.withContext("read from server stdout"))")
        }
        guard let result else {
            throw BenchError("\(label): the server closed its stdout while waiting for the \(step) response (\(describeExit()))")
        }
        return result
    }

    /// Closes stdin (a polite server exits), then terminates whatever is left.
    func shutDown() -> ChildProcess.ExitStatus {
        input.close()
        let status = child.waitForExit(timeout: .seconds(2)) ?? child.terminate(gracePeriod: .seconds(2))
        output.close()
        TargetRegistry.shared.remove(child)
        return status
    }

    private func takeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    private func send(_ line: String, step: String) throws {
        do { try input.writeAll(Array((line + "\n").utf8)) } catch {
            throw BenchError("\(label): sending \(step): \(error.withContext("write to server stdin"))")
        }
    }

    private func describeExit() -> String {
        if let status = child.waitForExit(timeout: .milliseconds(500)) { return "server \(status)" }
        return "server still running"
    }
}

private func excerpt(_ line: UnsafeRawBufferPointer) -> String {
    String(decoding: line.prefix(300), as: UTF8.self) + (line.count > 300 ? "…" : "")
}

/// Monotonic clock in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// The servers currently running, so an interrupt or a failure can stop them.
final class TargetRegistry: Sendable {
    static let shared = TargetRegistry()
    private let children = Mutex<[Int32: ChildProcess]>([:])
    private let interrupted = Atomic<Bool>(false)

    /// Set by the interrupt handler before it stops the servers, so the main thread can
    /// tell the failures that follow from real ones.
    var isInterrupted: Bool {
        get { interrupted.load(ordering: .acquiring) }
        set { interrupted.store(newValue, ordering: .releasing) }
    }

    func add(_ child: ChildProcess) { children.withLock { $0[child.pid] = child } }
    func remove(_ child: ChildProcess) { _ = children.withLock { $0.removeValue(forKey: child.pid) } }

    /// Terminates every registered server; returns how many there were.
    func terminateAll() -> Int {
        let running = children.withLock { children in
            defer { children.removeAll() }
            return Array(children.values)
        }
        for child in running { child.terminate(gracePeriod: .seconds(2)) }
        return running.count
    }
}
