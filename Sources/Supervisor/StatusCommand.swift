import Config
import Glibc
import JSON
import Logging

/// `plugboard status`: signals the running instance (SIGUSR1), waits for the status file it
/// rewrites, and prints it indented.
public enum StatusCommand {
    public static func run(pidFile: String, statusFile: String) -> Int32 {
        guard let pidText = FileSystem.readText(pidFile), let pid = pid_t(pidText.trimmingWhitespace()), pid > 0 else {
            printError("no running plugboard found: cannot read \(pidFile) (start it with `plugboard run`, or pass --pid-file)")
            return 1
        }
        let before = modificationTime(statusFile)
        guard kill(pid, SIGUSR1) == 0 else {
            printError("plugboard (pid \(pid) from \(pidFile)) is not running: \(String(cString: strerror(errno)))")
            return 1
        }
        for _ in 0..<100 {
            if let after = modificationTime(statusFile), after != before, let text = FileSystem.readText(statusFile),
                let status = try? JSONParser.parse(text)
            {
                printOut(PrettyJSON.format(status) + "\n")
                return 0
            }
            usleep(20_000)
        }
        printError("plugboard (pid \(pid)) did not write \(statusFile) within 2 s")
        return 1
    }

    private static func modificationTime(_ path: String) -> timespec? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mtim
    }

    private static func printOut(_ text: String) { StandardStreams.output(text) }
    private static func printError(_ text: String) { StandardStreams.error("plugboard: \(text)\n") }
}

extension timespec: @retroactive Equatable {
    public static func == (a: timespec, b: timespec) -> Bool { a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// JSON with two-space indentation, for people.
enum PrettyJSON {
    static func format(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + format($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let object) where !object.isEmpty:
            let members = object.map { inner + JSONValue.string($0.key).serializedString + ": " + format($0.value, indent: inner) }
            return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.serializedString
        }
    }
}
