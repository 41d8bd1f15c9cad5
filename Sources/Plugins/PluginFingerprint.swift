import Config
import Glibc

/// The fingerprint of every pool-mode plugin a configuration uses. Computing it reads and
/// hashes files (a `node_modules/` may hold thousands), so reloads do it off the event loop.
public struct PluginFingerprints: Sendable {
    let byPlugin: [String: String]

    public static func compute(for config: PlugboardConfig) -> PluginFingerprints {
        let plugins = Set(config.servers.filter(\.enabled).flatMap { $0.plugins.request + $0.plugins.response }.filter { $0.mode == .pool }.map(\.plugin))
        guard !plugins.isEmpty else { return PluginFingerprints(byPlugin: [:]) }
        let shared = PluginFingerprint.sharedFiles(in: config.pluginsDirectory)
        var byPlugin: [String: String] = [:]
        for plugin in plugins {
            byPlugin[plugin] = PluginFingerprint.file(PluginRegistry.path(of: plugin, in: config.pluginsDirectory)) + "+" + shared
        }
        return PluginFingerprints(byPlugin: byPlugin)
    }
}

/// Content hashes that tell whether a plugin changed: its own file, and everything in the
/// plugins directory's subfolders (shared `lib/`, a `node_modules/`), which any plugin may import.
enum PluginFingerprint {
    static func file(_ path: String) -> String {
        var hasher = FNV1a()
        hasher.add(path: path)
        return String(hasher.value, radix: 16)
    }

    static func sharedFiles(in directory: String) -> String {
        var hasher = FNV1a()
        for path in filesBelow(directory, depth: 0).sorted() {
            hasher.add(Array(path.utf8))
            hasher.add(path: path)
        }
        return String(hasher.value, radix: 16)
    }

    /// Folders whose changes are not code a plugin runs (tests, version control).
    static let ignoredDirectories: Set<String> = [".git", ".hg", ".svn", "test", "tests"]

    /// Regular files in subdirectories of `directory` (not the plugins themselves), bounded in depth.
    private static func filesBelow(_ directory: String, depth: Int) -> [String] {
        guard depth < 8, let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var files: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != "..", !ignoredDirectories.contains(name) else { continue }
            let path = directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                files += filesBelow(path, depth: depth + 1).map { $0 }
                if depth == 0 { continue }
            } else if depth > 0, (info.st_mode & S_IFMT) == S_IFREG {
                files.append(path)
            }
        }
        return files
    }

    struct FNV1a {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func add(_ bytes: [UInt8]) {
            for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }

        mutating func add(path: String) {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                add(Array("missing".utf8))
                return
            }
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                add(Array(buffer[..<count]))
            }
        }
    }
}
