import Glibc
import IO

extension DirectoryWatcher {
    /// The added, modified and removed paths found by one settle.
    struct Changes {
        var added: [String] = []
        var modified: [String] = []
        var removed: [String] = []

        mutating func record(_ path: String, old: FileFingerprint?, new: FileFingerprint?) {
            switch (old, new) {
            case (nil, .some): added.append(path)
            case (.some, nil): removed.append(path)
            case (.some(let old), .some(let new)) where !old.hasSameContent(as: new): modified.append(path)
            default: break
            }
        }
    }

    /// Looks where the burst's events pointed, updates the snapshot, and reports what changed.
    func settle() {
        guard state == .running else { return }
        settleDeferred = false
        watchFailureLogged = false
        let work = pending
        pending = PendingWork()

        var subtrees = work.subtrees
        if work.fullRescan {
            statistics.rescans += 1
            subtrees = Set(roots.map(\.path))
        } else {
            statistics.rescans += subtrees.filter { rootIndexByPath[$0] != nil }.count
        }
        let cover = subtrees.filter { !isCovered($0, by: subtrees, strictly: true) }

        var changes = Changes()
        var seen: Set<String> = []
        for subtree in cover {
            rescan(subtree, forceHashing: work.files, changes: &changes, seen: &seen)
        }
        if !cover.isEmpty {
            // One pass over the snapshot for every subtree: what they held and no longer do.
            let vanished = snapshot.keys.filter { !seen.contains($0) && isCovered($0, by: cover, strictly: false) }
            for file in vanished {
                changes.record(file, old: snapshot.removeValue(forKey: file), new: nil)
            }
        }
        var files = work.files
        for directory in work.linkDirectories where !isCovered(directory, by: cover, strictly: false) {
            collectLinks(in: directory, into: &files)
        }
        for file in files where !isCovered(file, by: cover, strictly: false) {
            recheck(file, changes: &changes)
        }
        if !cover.isEmpty { watchRootParents(reportingMissing: false) }

        let changeSet = ChangeSet(added: changes.added, modified: changes.modified, removed: changes.removed)
        guard !changeSet.isEmpty else { return }
        statistics.changeSets += 1
        onChange(changeSet)
    }

    /// Whether `path` lies in one of `subtrees` (itself included unless `strictly`) that belongs
    /// to the same root as `path`.
    private func isCovered(_ path: String, by subtrees: Set<String>, strictly: Bool) -> Bool {
        if subtrees.isEmpty { return false }
        if !strictly && subtrees.contains(path) { return true }
        var ancestor = path
        let rootIndex = owner(of: path)?.rootIndex
        while ancestor != "/" && ancestor != "." {
            if rootIndexByPath[ancestor] != nil && owner(of: ancestor)?.rootIndex == rootIndex {
                // Above a root nothing belongs to this root any more.
                return false
            }
            ancestor = Self.parent(of: ancestor)
            if subtrees.contains(ancestor) && owner(of: ancestor)?.rootIndex == rootIndex { return true }
        }
        return false
    }

    /// Walks `path` (a root or a directory or file in one), fingerprints what its root admits,
    /// records what is new or different, and adds every file found to `seen` (what is missing
    /// is the caller's to find). `forceHashing` lists files events named: they are re-read even
    /// when their timestamps look untouched.
    func rescan(_ path: String, forceHashing: Set<String>, changes: inout Changes, seen: inout Set<String>) {
        guard let (rootIndex, relative) = owner(of: path) else { return }
        var current: [String: FileFingerprint] = [:]
        var status = stat()
        let isRoot = relative.isEmpty
        let found = (isRoot ? stat(path, &status) : lstat(path, &status)) == 0
        if found && status.fileType == S_IFDIR {
            if isRoot || admitsDirectory(rootIndex: rootIndex, relative: relative) {
                walk(path, rootIndex: rootIndex, relative: relative) { file, fileStatus in
                    let previous = forceHashing.contains(file) ? nil : self.snapshot[file]
                    if let fingerprint = self.fingerprinter.fingerprint(file, status: fileStatus, previous: previous) {
                        current[file] = fingerprint
                    }
                }
            }
        } else if found && !isRoot && admitsFile(rootIndex: rootIndex, relative: relative) {
            current[path] = fingerprinter.fingerprint(path, status: status, previous: nil)
        }

        for (file, fingerprint) in current {
            changes.record(file, old: snapshot[file], new: fingerprint)
            snapshot[file] = fingerprint
            seen.insert(file)
        }
    }

    /// `rescan` for the initial snapshot: nothing is reported.
    func takeSnapshot(of path: String) {
        var ignored = Changes()
        var seen: Set<String> = []
        rescan(path, forceHashing: [], changes: &ignored, seen: &seen)
    }

    /// Re-reads one file events named and records how it differs from the snapshot.
    private func recheck(_ path: String, changes: inout Changes) {
        guard let (rootIndex, relative) = owner(of: path), !relative.isEmpty,
            admitsFile(rootIndex: rootIndex, relative: relative)
        else { return }
        var status = stat()
        var fingerprint: FileFingerprint?
        if lstat(path, &status) == 0 {
            fingerprint = fingerprinter.fingerprint(path, status: status, previous: nil)
        }
        changes.record(path, old: snapshot[path], new: fingerprint)
        snapshot[path] = fingerprint
    }

    /// Adds the symbolic links in `directory` to `files`.
    private func collectLinks(in directory: String, into files: inout Set<String>) {
        for entry in listDirectory(directory) {
            var isLink = entry.type == UInt8(DT_LNK)
            if entry.type == UInt8(DT_UNKNOWN) {
                var status = stat()
                isLink = lstat(directory + "/" + entry.name, &status) == 0 && status.fileType == S_IFLNK
            }
            if isLink && !EditorFiles.isAtomicWriterEntry(entry.name) && !EditorFiles.isTemporary(entry.name) {
                files.insert(directory == "/" ? "/" + entry.name : directory + "/" + entry.name)
            }
        }
    }

    /// Watches `directory` and the subdirectories its root admits, calling `file` for each
    /// admitted regular file or symbolic link with its `lstat`. Subdirectories that are roots
    /// themselves are left to their own root.
    func walk(
        _ directory: String, rootIndex: Int, relative: String,
        file: ((String, stat) -> Void)?
    ) {
        guard addWatch(directory, follow: relative.isEmpty) || watchByPath[directory] != nil
            || file != nil
        else { return }
        for entry in listDirectory(directory) {
            let name = entry.name
            if EditorFiles.isAtomicWriterEntry(name) || EditorFiles.isTemporary(name) { continue }
            let path = directory == "/" ? "/" + name : directory + "/" + name
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            var status = stat()
            var type = entry.type
            if type == UInt8(DT_UNKNOWN) || (file != nil && type != UInt8(DT_DIR)) {
                guard lstat(path, &status) == 0 else { continue }
                switch status.fileType {
                case S_IFDIR: type = UInt8(DT_DIR)
                case S_IFREG: type = UInt8(DT_REG)
                case S_IFLNK: type = UInt8(DT_LNK)
                default: continue
                }
            }
            if type == UInt8(DT_DIR) {
                if rootIndexByPath[path] != nil { continue }
                if admitsDirectory(rootIndex: rootIndex, relative: childRelative) {
                    walk(path, rootIndex: rootIndex, relative: childRelative, file: file)
                }
            } else if let file, type == UInt8(DT_REG) || type == UInt8(DT_LNK),
                admitsFile(rootIndex: rootIndex, relative: childRelative)
            {
                file(path, status)
            }
        }
    }

    /// The entries of `directory` (without `.` and `..`), read in one go so no directory stays
    /// open during recursion. Names that are not UTF-8 are skipped.
    func listDirectory(_ directory: String) -> [(name: String, type: UInt8)] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var entries: [(name: String, type: UInt8)] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(validatingCString: $0) }
            }
            guard let name, name != ".", name != ".." else { continue }
            entries.append((name, entry.pointee.d_type))
        }
        return entries
    }
}
