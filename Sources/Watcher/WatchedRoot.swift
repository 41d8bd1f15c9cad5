import Glibc

/// A directory the watcher reports on: its files (and, when `recursive`, its subdirectories' files).
///
/// `path` may be a symbolic link to a directory (it is followed); symbolic links to directories
/// *inside* a root are not followed: they are fingerprinted as links.
public struct WatchedRoot: Sendable {
    /// The absolute directory path, without a trailing slash.
    public var path: String
    public var recursive: Bool
    /// Whether a file is reported, given its path relative to `path` ("conf.d/a.toml").
    public var include: @Sendable (String) -> Bool
    /// Whether a subdirectory (relative path) of a recursive root is watched and scanned.
    public var descend: @Sendable (String) -> Bool

    public init(
        path: String,
        recursive: Bool,
        include: @escaping @Sendable (String) -> Bool = { _ in true },
        descend: @escaping @Sendable (String) -> Bool = WatchedRoot.skippingVersionControl
    ) {
        self.path = WatchedRoot.normalized(path)
        self.recursive = recursive
        self.include = include
        self.descend = descend
    }

    /// Descends everywhere except into version-control metadata (`.git`, `.hg`, `.svn`), whose
    /// churn during `git checkout` and the like is not content a reload cares about.
    public static let skippingVersionControl: @Sendable (String) -> Bool = { relativePath in
        let name = relativePath.split(separator: "/").last.map(String.init) ?? relativePath
        return name != ".git" && name != ".hg" && name != ".svn"
    }

    /// An `include` filter accepting file names that end with one of `suffixes` (".toml").
    public static func suffixes(_ suffixes: String...) -> @Sendable (String) -> Bool {
        { relativePath in suffixes.contains { relativePath.hasSuffix($0) } }
    }

    static func normalized(_ path: String) -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        components.removeAll { $0 == "." }
        let joined = "/" + components.joined(separator: "/")
        if path.hasPrefix("/") { return joined }
        return WatchedRoot.currentDirectory() + (joined == "/" ? "" : joined)
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "" }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return path == "/" ? "" : path
    }
}
