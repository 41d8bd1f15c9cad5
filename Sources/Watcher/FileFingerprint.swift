import Glibc

/// What the watcher remembers of a file: enough to tell whether its content changed.
struct FileFingerprint {
    enum Kind: UInt8 { case regular, symlink }

    var kind: Kind
    /// Byte count of the content (for a link: of the file it resolves to; -1 if none).
    var size: Int64
    /// 64-bit hash of the content (for a link: of its target text and the resolved content).
    var hash: UInt64
    /// Identity and timestamps of a regular file, so a rescan without events can skip
    /// re-reading files nothing has touched.
    var device: UInt64
    var inode: UInt64
    var modified: Int64
    var changed: Int64

    func hasSameContent(as other: FileFingerprint) -> Bool {
        kind == other.kind && size == other.size && hash == other.hash
    }

    /// True when `status` shows the very file this fingerprint was taken of, untouched since.
    func isUnchanged(_ status: stat) -> Bool {
        kind == .regular && device == UInt64(status.st_dev) && inode == UInt64(status.st_ino)
            && size == Int64(status.st_size) && modified == status.modifiedNanoseconds
            && changed == status.changedNanoseconds
    }
}

extension stat {
    var fileType: mode_t { st_mode & S_IFMT }
    var modifiedNanoseconds: Int64 { Int64(st_mtim.tv_sec) * 1_000_000_000 + Int64(st_mtim.tv_nsec) }
    var changedNanoseconds: Int64 { Int64(st_ctim.tv_sec) * 1_000_000_000 + Int64(st_ctim.tv_nsec) }
}

/// A streaming 64-bit content hash: FNV-1a's xor-multiply step taken a word at a time with a
/// rotation so high bits flow down, then murmur3's finalizer. Not cryptographic; it only has
/// to notice edits.
struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325
    private var pending: UInt64 = 0
    private var pendingCount = 0
    private var length: UInt64 = 0

    private mutating func mix(_ word: UInt64) {
        state = (state ^ word) &* 0x0000_0100_0000_01b3
        state = (state << 27) | (state >> 37)
    }

    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        var index = 0
        while pendingCount != 0 && index < count {
            pending |= UInt64(bytes[index]) << (8 * UInt64(pendingCount))
            pendingCount += 1
            index += 1
            if pendingCount == 8 {
                mix(pending)
                pending = 0
                pendingCount = 0
            }
        }
        while index + 8 <= count {
            mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        while index < count {
            pending |= UInt64(bytes[index]) << (8 * UInt64(pendingCount))
            pendingCount += 1
            index += 1
        }
        length &+= UInt64(count)
    }

    mutating func absorb(_ text: String) {
        var copy = text
        copy.withUTF8 { absorb(UnsafeRawBufferPointer($0)) }
    }

    func finish() -> UInt64 {
        var copy = self
        if copy.pendingCount > 0 { copy.mix(copy.pending) }
        var h = copy.state ^ copy.length
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}

/// Reads files and fingerprints them, with one reusable buffer.
final class Fingerprinter {
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    deinit { buffer.deallocate() }

    /// The fingerprint of `path`, whose `lstat` is `status`; nil when it is neither a regular file
    /// nor a symbolic link, or vanished meanwhile. `previous` lets an untouched regular file
    /// keep its hash without being read.
    func fingerprint(_ path: String, status: stat, previous: FileFingerprint?) -> FileFingerprint? {
        switch status.fileType {
        case S_IFREG:
            if let previous, previous.isUnchanged(status) { return previous }
            guard let (size, hash) = hashContent(path) else { return nil }
            return FileFingerprint(
                kind: .regular, size: size, hash: hash,
                device: UInt64(status.st_dev), inode: UInt64(status.st_ino),
                modified: status.modifiedNanoseconds, changed: status.changedNanoseconds)
        case S_IFLNK:
            guard let target = readLink(path) else { return nil }
            var hash = ContentHash()
            hash.absorb(target)
            var size: Int64 = -1
            var resolved = stat()
            if stat(path, &resolved) == 0 && resolved.fileType == S_IFREG, let content = hashContent(path) {
                size = content.size
                withUnsafeBytes(of: content.hash) { hash.absorb($0) }
            }
            return FileFingerprint(
                kind: .symlink, size: size, hash: hash.finish(),
                device: UInt64(status.st_dev), inode: UInt64(status.st_ino),
                modified: status.modifiedNanoseconds, changed: status.changedNanoseconds)
        default:
            return nil
        }
    }

    private func hashContent(_ path: String) -> (size: Int64, hash: UInt64)? {
        // O_NONBLOCK: if the file was swapped for a FIFO since lstat, do not hang the loop.
        let descriptor = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var hash = ContentHash()
        var size: Int64 = 0
        while true {
            let count = retryingOnInterrupt { read(descriptor, buffer.baseAddress, buffer.count) }
            if count < 0 { return nil }
            if count == 0 { break }
            hash.absorb(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            size += Int64(count)
        }
        return (size, hash.finish())
    }

    private func readLink(_ path: String) -> String? {
        let count = readlink(path, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
        guard count >= 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
    }
}

/// Runs a system call again while it fails with EINTR.
@inline(__always)
func retryingOnInterrupt<Result: FixedWidthInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
