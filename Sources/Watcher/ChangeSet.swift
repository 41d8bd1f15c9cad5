/// The files whose content changed during one settled burst of file-system activity.
///
/// Paths are absolute (under the root's path as given, symbolic links not resolved) and sorted.
public struct ChangeSet: Sendable, Equatable, CustomStringConvertible {
    public var added: [String]
    public var modified: [String]
    public var removed: [String]

    public init(added: [String] = [], modified: [String] = [], removed: [String] = []) {
        self.added = added.sorted()
        self.modified = modified.sorted()
        self.removed = removed.sorted()
    }

    public var isEmpty: Bool { added.isEmpty && modified.isEmpty && removed.isEmpty }

    /// Every path in the set, sorted.
    public var paths: [String] { (added + modified + removed).sorted() }

    public var description: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !modified.isEmpty { parts.append("modified \(modified.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        return parts.isEmpty ? "no changes" : parts.joined(separator: "; ")
    }
}
