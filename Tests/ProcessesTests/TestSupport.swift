import Glibc
import Processes
import Testing

/// Every test that spawns or counts descriptors runs in this one serialized suite: the
/// descriptor census and the zombie checks would see other tests' children otherwise.
@Suite(.serialized) enum ProcessBehaviour {}

/// Reads until end of file.
func readAll(_ descriptor: FileDescriptor) throws -> String {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
        if count == 0 { break }
        result += buffer.prefix(count)
    }
    return String(decoding: result, as: UTF8.self)
}

/// Reads one line (without its newline), byte by byte: fine for tests.
func readLine(_ descriptor: FileDescriptor) throws -> String {
    var result: [UInt8] = []
    var byte: UInt8 = 0
    while try withUnsafeMutableBytes(of: &byte, { raw throws(SystemError) in try descriptor.read(into: raw) }) == 1 {
        if byte == UInt8(ascii: "\n") { break }
        result.append(byte)
    }
    return String(decoding: result, as: UTF8.self)
}

/// Runs `/bin/sh -c script` with stdout piped and returns its output and exit status.
func shell(_ script: String) throws -> (output: String, status: ChildProcess.ExitStatus) {
    let child = try ChildProcess.spawn(.init(
        executable: "/bin/sh", arguments: ["-c", script], standardInput: .discard))
    let output = try readAll(child.standardOutput!)
    child.standardOutput!.close()
    return (output, child.waitForExit()!)
}

func closePipes(_ child: ChildProcess) {
    for descriptor in [child.standardInput, child.standardOutput, child.standardError] {
        descriptor?.close()
    }
}

/// True once `pid` is gone or a zombie (an orphan waiting for init to reap it).
func processIsDead(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfProcFile: "/proc/\(pid)/stat") else { return true }
    // Format: "pid (comm) S …"; comm may contain spaces, so look after the last ')'.
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
    return state == "Z" || state == "X"
}

extension String {
    init(contentsOfProcFile path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd == -1 { throw SystemError(call: "open", errno: errno, context: "open \(path)") }
        let descriptor = FileDescriptor(rawValue: fd)
        defer { descriptor.close() }
        self = try readAll(descriptor)
    }
}

/// Blocks the calling thread until `condition` holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
