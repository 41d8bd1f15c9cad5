import Foundation
import Glibc
import JSON

/// What a fault test checks of plugboard's process afterwards: its children, zombies,
/// descriptors, and the status dump.
extension PlugboardUnderTest {
    var pid: Int32 { process.pid }

    /// Every process below plugboard (children, their children, …).
    func descendants() -> [Int32] {
        var found: [Int32] = []
        var queue = [pid]
        while let next = queue.popLast() {
            let text = (try? String(contentsOfFile: "/proc/\(next)/task/\(next)/children", encoding: .utf8)) ?? ""
            let children = text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            found += children
            queue += children
        }
        return found
    }

    func descendants(runningCommandContaining fragment: String) -> [Int32] {
        descendants().filter { child in
            let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(child)/cmdline"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return command.contains(fragment)
        }
    }

    /// Descendants that exited and were not reaped.
    func zombies() -> [Int32] {
        descendants().filter { child in
            let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
            guard let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
        }
    }

    func openDescriptorCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? -1
    }

    /// The SIGUSR1 status dump, read from `statusFile` (which `run` was given with --status-file).
    func status(statusFile: String) throws -> JSONValue {
        unlink(statusFile)
        kill(pid, SIGUSR1)
        let deadline = Date().addingTimeInterval(10)
        while deadline.timeIntervalSinceNow > 0 {
            if let data = FileManager.default.contents(atPath: statusFile), let status = try? JSONParser.parse(Array(data)) {
                return status
            }
            usleep(20_000)
        }
        throw TestTimeout(waitingFor: "a status dump in \(statusFile)")
    }

    /// Waits until `condition` holds, polling; false if it never did within `timeout` seconds.
    func eventually(_ timeout: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
