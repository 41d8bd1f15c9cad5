/// File names that editors write while saving and that never mean a change by themselves.
///
/// Events on these names are dropped before any look at the disk, and they are never reported:
/// - `4913`, `5036`, … : vim's probe that the directory is writable (4913 + n·123)
/// - `*~` : backups (vim's `writebackup`, emacs)
/// - `.*.sw?` : vim swap files (`.x.swp`, `.x.swo`, `.x.swx`, …)
/// - `.#*` : emacs lock links
/// - `#*#` : emacs auto-save files
///
/// Separately, names starting with `..` (Kubernetes ConfigMap volumes' `..data`, `..data_tmp`
/// and timestamped directories) are never reported or descended into, but activity on them
/// makes the watcher re-read the symbolic links beside them: that is how a ConfigMap update
/// shows.
enum EditorFiles {
    static func isTemporary(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        if last == UInt8(ascii: "~") { return true }
        if first == UInt8(ascii: "#") && last == UInt8(ascii: "#") && utf8.count >= 2 { return true }
        if first == UInt8(ascii: ".") {
            if utf8.count >= 2 && utf8[utf8.index(after: utf8.startIndex)] == UInt8(ascii: "#") { return true }
            if isSwapFile(utf8) { return true }
        }
        if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"), let number = Int(name), number >= 4913 {
            return (number - 4913) % 123 == 0
        }
        return false
    }

    /// Kubernetes' atomic-writer entries (`..data`, `..2024_01_01_…`).
    static func isAtomicWriterEntry(_ name: String) -> Bool {
        name.utf8.starts(with: "..".utf8)
    }

    private static func isSwapFile(_ utf8: String.UTF8View) -> Bool {
        // ".sw" followed by one lowercase letter, after a leading dot.
        guard utf8.count >= 4 else { return false }
        let tail = Array(utf8.suffix(4))
        return tail[0] == UInt8(ascii: ".") && tail[1] == UInt8(ascii: "s") && tail[2] == UInt8(ascii: "w")
            && tail[3] >= UInt8(ascii: "a") && tail[3] <= UInt8(ascii: "z")
    }
}
