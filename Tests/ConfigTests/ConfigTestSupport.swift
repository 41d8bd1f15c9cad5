import Config
import Foundation
import Testing

/// A throwaway configuration directory holding the given files (paths relative to it).
struct TemporaryConfigDirectory {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "plugboard-config-test-" + UUID().uuidString
        for (name, contents) in files {
            let file = path + "/" + name
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Loads the directory, recording an issue if it fails.
    func load(environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> PlugboardConfig {
        do {
            return try ConfigLoader.load(directory: path, environment: { environment[$0] })
        } catch {
            Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The error lines loading produces, with the directory prefix removed; records an issue if it loads.
    func errorLines(environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        do {
            _ = try ConfigLoader.load(directory: path, environment: { environment[$0] })
            Issue.record("expected the configuration to be rejected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.errors.map { $0.description.replacingOccurrences(of: path + "/", with: "") }
        }
    }
}

/// A minimal valid main file with one server, followed by `extra`.
func minimalConfig(_ extra: String = "") -> String {
    "[servers.demo]\ncommand = \"node\"\n" + extra
}
