import Config
import Glibc
import Processes

/// `plugboard check`: whether each plugin file the chains name compiles, by `node --check`, which
/// parses a module without running any of it.
public enum PluginSyntaxCheck {
    public struct Problem: Equatable, Sendable {
        public let plugin: String
        /// `file:line:col: SyntaxError: …`, as an editor jumps to it.
        public let message: String
    }

    public static func problems(in config: PlugboardConfig, timeout: Duration = .seconds(10)) -> [Problem] {
        let plugins = Set(
            config.servers.filter(\.enabled).flatMap { $0.plugins.request + $0.plugins.response }.filter { $0.mode == .pool }.map(\.plugin))
        return plugins.sorted().compactMap { plugin in
            let path = PluginRegistry.path(of: plugin, in: config.pluginsDirectory)
            return check(path, node: config.plugins.node, timeout: timeout).map { Problem(plugin: plugin, message: $0) }
        }
    }

    /// nil when `path` compiles; otherwise what is wrong, located.
    static func check(_ path: String, node: String, timeout: Duration) -> String? {
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                .init(executable: node, arguments: ["--check", path], standardInput: .discard, standardOutput: .discard, standardError: .pipe))
        } catch {
            return "\(path): cannot be checked: \(error)"
        }
        let deadline = ContinuousClock.now + timeout
        let errors = child.standardError.map { readAll($0, until: deadline) } ?? ""
        child.standardError?.close()
        let remaining = deadline - ContinuousClock.now
        guard let status = child.waitForExit(timeout: remaining > .zero ? remaining : .zero) else {
            child.terminate(gracePeriod: .seconds(1))
            return "\(path): node --check did not finish within \(timeout)"
        }
        return status.isSuccess ? nil : located(errors, path: path, status: status)
    }

    /// Node's report, `path:line`, the source line, a caret line and the error, as one line.
    static func located(_ report: String, path: String, status: ExitStatus) -> String {
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let error = lines.first { $0.prefix { $0.isLetter }.hasSuffix("Error") } ?? "node --check \(status)"
        guard let head = lines.first, head.hasPrefix(path + ":"), let line = Int(head.dropFirst(path.count + 1)) else {
            return "\(path): \(error)"
        }
        let column = lines.dropFirst(2).first.flatMap { caret in caret.firstIndex(of: "^").map { caret.distance(from: caret.startIndex, to: $0) + 1 } }
        return "\(path):\(line)\(column.map { ":\($0)" } ?? ""): \(error)"
    }

    private static func readAll(_ descriptor: FileDescriptor, until deadline: ContinuousClock.Instant) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 64 * 1024 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var poll = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            guard Glibc.poll(&poll, 1, milliseconds) > 0 else { break }
            let count = (try? chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }) ?? 0
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
