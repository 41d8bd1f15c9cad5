import Glibc
import Logging
import TLS

/// The certificate and key an HTTPS listener presents, rotated live: when either file changes
/// (certbot renewing, a Kubernetes secret swapping its symlinks), new connections get the new
/// pair and connections in flight keep theirs. A pair that does not load, or whose key does not
/// match, is refused with a log line and the old one keeps serving.
public final class TLSCertificates {
    public let certificateFile: String
    public let keyFile: String
    public private(set) var current: TLSContext
    private var fingerprint: [FileStamp?]
    /// The fingerprint of the last pair refused, so it is reported once, not at every check.
    private var refused: [FileStamp?]?
    public private(set) var rotations = 0
    public private(set) var refusals = 0

    public init(certificateFile: String, keyFile: String) throws(TLSSetupError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        fingerprint = [FileStamp(path: certificateFile), FileStamp(path: keyFile)]
        current = try TLSContext.server(certificateFile: certificateFile, keyFile: keyFile)
    }

    /// What a check found.
    public enum Check: Equatable {
        case unchanged
        case rotated
        case refused(String)
    }

    /// Loads the pair again if either file changed since it was last loaded.
    @discardableResult
    public func reloadIfChanged(log: Logger) -> Check {
        let now = [FileStamp(path: certificateFile), FileStamp(path: keyFile)]
        guard now != fingerprint, now != refused else { return .unchanged }
        do {
            current = try TLSContext.server(certificateFile: certificateFile, keyFile: keyFile)
            fingerprint = now
            refused = nil
            rotations += 1
            log.notice("TLS certificate reloaded; new connections get the new one", ["certificate": certificateFile])
            return .rotated
        } catch {
            refused = now
            refusals += 1
            log.error("the changed TLS certificate was refused, the previous one keeps serving: \(error)", ["certificate": certificateFile])
            return .refused(error.description)
        }
    }
}

/// What identifies a file's contents cheaply: which inode it is (after symlinks), its size and mtime.
struct FileStamp: Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int64
    let modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }
}
