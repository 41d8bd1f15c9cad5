/// File names that editors write while saving and that never mean a change by themselves.
///
/// Events on these names are dropped before any look at the disk, and they are never reported:
/// - `4913`, `5036`, … : vim's probe that the directory is writable (4913 + n·123)
/// - `*~` : backups (vim's `writebackup`, emacs)
/// - `.*.sw?` : vim swap files (`.x.swp`, `.x.swo`, `.x.swx`, …)
/// - `.#*` : emacs lock links
/// - `#*#` : emacs auto-save files
/// - `NAME.tmp`, `NAME.tmp.N`, `NAME.tmp-N`: temp-then-rename saves (atomic writers, Ansible, many tools)
/// - `sedXXXXXX` : `sed -i`'s output before it replaces the file
/// - `.goutputstream-*` (GNOME), `*___jb_tmp___` and `*___jb_old___` (JetBrains), `*.part`
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
        if isTempThenRename(name) || isSedOutput(utf8) { return true }
        return name.hasPrefix(".goutputstream-") || name.hasSuffix("___jb_tmp___") || name.hasSuffix("___jb_old___") || name.hasSuffix(".part")
    }

    /// `x.toml.tmp`, `x.toml.tmp.1234`, `x.toml.tmp-ab12`: a name, `.tmp`, and at most a tail of letters and digits.
    private static func isTempThenRename(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let marker = Array(".tmp".utf8)
        guard bytes.count > marker.count,
            let start = (1...(bytes.count - marker.count)).reversed().first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        else { return false }
        let rest = bytes[(start + marker.count)...]
        guard let separator = rest.first else { return true }
        let isAlphanumeric = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        // A counter or random tail has a digit; `x.tmp.toml` is a file name like any other.
        let tail = rest.dropFirst()
        return (separator == UInt8(ascii: ".") || separator == UInt8(ascii: "-")) && !tail.isEmpty && tail.allSatisfy(isAlphanumeric)
            && tail.contains { (0x30...0x39).contains($0) }
    }

    /// GNU sed's `-i` temporary: `sed` and six letters or digits, no dot.
    private static func isSedOutput(_ utf8: String.UTF8View) -> Bool {
        utf8.count == 9 && utf8.starts(with: "sed".utf8)
            && utf8.dropFirst(3).allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
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
