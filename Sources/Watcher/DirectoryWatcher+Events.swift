import Glibc
import IO

extension DirectoryWatcher {
    /// What every directory is watched for. Files are never watched themselves: their events
    /// arrive through their directory.
    static let eventMask: UInt32 =
        UInt32(IN_CREATE) | UInt32(IN_DELETE) | UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE)
        | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO) | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF)
        | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    // MARK: Reading events

    func readEvents() {
        guard state == .running else { return }
        let count = retryingOnInterrupt { read(descriptor, eventBuffer.baseAddress, eventBuffer.count) }
        if count < 0 {
            let code = errno
            if code != EAGAIN && code != EWOULDBLOCK {
                log("reading inotify events failed: \(String(cString: strerror(code))); rescanning")
                pending.fullRescan = true
                noteActivity()
            }
            return
        }
        let headerSize = MemoryLayout<inotify_event>.size
        var offset = 0
        var active = false
        while offset + headerSize <= count {
            let event = eventBuffer.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
            let nameLength = Int(event.len)
            var name: String?
            if nameLength > 0 {
                let start = eventBuffer.baseAddress! + offset + headerSize
                let bytes = UnsafeRawBufferPointer(start: start, count: nameLength)
                let end = bytes.firstIndex(of: 0) ?? nameLength
                // Names that are not UTF-8 cannot round-trip through String; they are dropped.
                name = String(validating: bytes[0..<end], as: UTF8.self)
                if name == nil {
                    statistics.events += 1
                    statistics.ignoredEvents += 1
                    offset += headerSize + nameLength
                    continue
                }
            }
            if handle(watch: event.wd, mask: event.mask, name: name) { active = true }
            offset += headerSize + nameLength
        }
        if active { noteActivity() }
    }

    /// Records where one event says to look; returns whether it may mean a change.
    func handle(watch: Int32, mask: UInt32, name: String?) -> Bool {
        statistics.events += 1
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            statistics.overflows += 1
            log("inotify event queue overflowed (fs.inotify.max_queued_events); rescanning everything")
            pending.fullRescan = true
            return true
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            // The kernel dropped the watch: its directory was deleted or unmounted.
            if let path = pathByWatch.removeValue(forKey: watch), watchByPath[path] == watch {
                watchByPath[path] = nil
            }
            return false
        }
        guard let directory = pathByWatch[watch] else {
            statistics.ignoredEvents += 1
            return false
        }
        guard let name else {
            // The watched directory itself. A root moved away takes its watches' meaning with it.
            if mask & (UInt32(IN_MOVE_SELF) | UInt32(IN_DELETE_SELF)) != 0, rootIndexByPath[directory] != nil {
                if mask & UInt32(IN_MOVE_SELF) != 0 { forgetWatches(under: directory) }
                pending.subtrees.insert(directory)
                return true
            }
            statistics.ignoredEvents += 1
            return false
        }
        let path = directory == "/" ? "/" + name : directory + "/" + name
        guard let (rootIndex, relative) = owner(of: path) else {
            // A sibling of a root, seen through the watch on the root's parent.
            statistics.ignoredEvents += 1
            return false
        }
        let created = mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0
        let gone = mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0
        if relative.isEmpty {
            // A root appeared, vanished or was replaced in its parent: rescan it whole.
            guard created || gone else {
                statistics.ignoredEvents += 1
                return false
            }
            forgetWatches(under: path)
            if created { watchDirectories(path, rootIndex: rootIndex, relative: "") }
            pending.subtrees.insert(path)
            return true
        }
        if EditorFiles.isAtomicWriterEntry(name) {
            pending.linkDirectories.insert(directory)
            return true
        }
        if EditorFiles.isTemporary(name) {
            statistics.ignoredEvents += 1
            return false
        }
        if mask & UInt32(IN_ISDIR) != 0 {
            guard admitsDirectory(rootIndex: rootIndex, relative: relative) else {
                statistics.ignoredEvents += 1
                return false
            }
            if created {
                // Watch it (and what `mkdir -p a/b && echo > a/b/c` already put in it) now, so
                // nothing written there from here on is missed; the walk at settle reads files.
                watchDirectories(path, rootIndex: rootIndex, relative: relative)
            } else if mask & UInt32(IN_MOVED_FROM) != 0 {
                forgetWatches(under: path)
            } else if !gone && mask & UInt32(IN_ATTRIB) == 0 {
                statistics.ignoredEvents += 1
                return false
            }
            pending.subtrees.insert(path)
            return true
        }
        guard admitsFile(rootIndex: rootIndex, relative: relative) else {
            statistics.ignoredEvents += 1
            return false
        }
        pending.files.insert(path)
        pending.linkDirectories.insert(directory)
        return true
    }

    // MARK: Roots and filters

    /// The most specific root containing `path`, and the path relative to it ("" for the root).
    func owner(of path: String) -> (rootIndex: Int, relative: String)? {
        var best: (rootIndex: Int, relative: String)?
        var bestLength = -1
        for (index, root) in roots.enumerated() {
            let rootLength = root.path.utf8.count
            guard rootLength > bestLength else { continue }
            if path == root.path {
                best = (index, "")
                bestLength = rootLength
            } else if path.hasPrefix(root.path == "/" ? "/" : root.path + "/") {
                let skip = root.path == "/" ? 1 : rootLength + 1
                best = (index, String(path.utf8.dropFirst(skip))!)
                bestLength = rootLength
            }
        }
        return best
    }

    func admitsFile(rootIndex: Int, relative: String) -> Bool {
        let root = roots[rootIndex]
        let name = Self.lastComponent(relative)
        if EditorFiles.isTemporary(name) || EditorFiles.isAtomicWriterEntry(name) { return false }
        if !root.recursive && relative.utf8.contains(UInt8(ascii: "/")) { return false }
        return root.include(relative)
    }

    func admitsDirectory(rootIndex: Int, relative: String) -> Bool {
        let root = roots[rootIndex]
        guard root.recursive else { return false }
        return !EditorFiles.isAtomicWriterEntry(Self.lastComponent(relative)) && root.descend(relative)
    }

    static func lastComponent(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: Watches

    /// Watches each root's parent, to see the root created, deleted or replaced. Idempotent.
    func watchRootParents(reportingMissing: Bool) {
        for root in roots where root.path != "/" {
            // Always asked again: the path may name another directory than last time.
            let parent = Self.parent(of: root.path)
            if !addWatch(parent, follow: true) && reportingMissing {
                var status = stat()
                if stat(parent, &status) != 0 {
                    log("\(root.path) cannot be watched: its parent directory does not exist")
                }
            }
        }
    }

    /// Adds a watch on `path`; false when it is gone, not a directory, or could not be watched
    /// (counted and logged, or kept for `start()` to throw).
    @discardableResult
    func addWatch(_ path: String, follow: Bool) -> Bool {
        var mask = Self.eventMask
        if !follow { mask |= UInt32(IN_DONT_FOLLOW) }
        let watch = inotify_add_watch(descriptor, path, mask)
        guard watch >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP { return false }
            let error = WatcherError(call: "inotify_add_watch", errno: code, path: path)
            statistics.watchFailures += 1
            let isLimit = code == ENOSPC || code == ENOMEM
            if starting && isLimit {
                if startFailure == nil { startFailure = error }
            } else if !watchFailureLogged {
                watchFailureLogged = true
                log(error.description)
            }
            return false
        }
        if let previousPath = pathByWatch[watch], previousPath != path, watchByPath[previousPath] == watch {
            // The same directory reached by a new path (it was moved): the new path wins.
            watchByPath[previousPath] = nil
        }
        if let previousWatch = watchByPath[path], previousWatch != watch {
            // The path now names another directory; the old one is no longer ours.
            pathByWatch[previousWatch] = nil
            inotify_rm_watch(descriptor, previousWatch)
        }
        pathByWatch[watch] = path
        watchByPath[path] = watch
        return true
    }

    /// Drops the watches on `path` and every directory under it (moved away or replaced).
    /// Watches that are some root's parent are kept.
    func forgetWatches(under path: String) {
        let prefix = path == "/" ? "/" : path + "/"
        for (watchedPath, watch) in watchByPath where watchedPath == path || watchedPath.hasPrefix(prefix) {
            if isRootParent(watchedPath) { continue }
            watchByPath[watchedPath] = nil
            pathByWatch[watch] = nil
            inotify_rm_watch(descriptor, watch)
        }
    }

    func isRootParent(_ path: String) -> Bool {
        roots.contains { $0.path != "/" && Self.parent(of: $0.path) == path }
    }

    /// Watches `path` and the directories under it that its root admits, without reading files.
    func watchDirectories(_ path: String, rootIndex: Int, relative: String) {
        walk(path, rootIndex: rootIndex, relative: relative, file: nil)
    }
}
