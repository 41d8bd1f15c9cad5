/// Lexical path arithmetic: joins and normalises without touching the disk.
enum ConfigPath {
    /// `path` made absolute against `base` (itself absolute), with `.` and `..` resolved.
    static func resolve(_ path: String, against base: String) -> String {
        normalize(path.hasPrefix("/") ? path : base + "/" + path)
    }

    static func absolute(_ path: String) -> String {
        resolve(path, against: FileSystem.currentDirectory())
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
