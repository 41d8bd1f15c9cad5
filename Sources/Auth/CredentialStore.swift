import Cryptography
import Glibc
import HTTP
import JSON

/// Token files: one per server and authorization server, `SERVER@HOST-HASH.json` in the token
/// directory, mode 0600 in a 0700 directory, replaced atomically (write, fsync, rename).
public struct CredentialStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func path(server: String, issuer: String) -> String {
        let host = HTTPURLHost.of(issuer)
        let hash = Digest.sha256(Array(issuer.utf8)).prefix(6).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return "\(directory)/\(server)@\(host)-\(hash).json"
    }

    /// The newest credentials stored for `server` that were issued for `resource`.
    public func load(server: String, resource: String) -> StoredCredentials? {
        files(of: server).compactMap { read($0).credentials }.filter { ResourceIdentifier.same($0.resource, resource) }
            .max { $0.obtainedAt < $1.obtainedAt }
    }

    /// `server`'s token files that cannot be read, each with why: a person should hear of them.
    public func unreadable(server: String) -> [(path: String, problem: String)] {
        files(of: server).compactMap { path in read(path).problem.map { (path, $0) } }
    }

    /// Every stored credential of `server` for `resource`, whichever authorization server issued it.
    public func loadAll(server: String, resource: String) -> [StoredCredentials] {
        files(of: server).compactMap { read($0).credentials }.filter { ResourceIdentifier.same($0.resource, resource) }
    }

    public func save(_ credentials: StoredCredentials) throws(CredentialStoreError) {
        try makeDirectory()
        let target = path(server: credentials.server, issuer: credentials.issuer)
        let temporary = "\(target).tmp.\(getpid()).\(Digest.randomBytes(4).map { String($0, radix: 16) }.joined())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CredentialStoreError(path: temporary, operation: "create", code: errno) }
        var bytes = credentials.json.serialized()
        bytes.append(0x0A)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw CredentialStoreError(path: temporary, operation: "write", code: code)
            }
            written += count
        }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard synced else {
            unlink(temporary)
            throw CredentialStoreError(path: temporary, operation: "fsync", code: code)
        }
        guard rename(temporary, target) == 0 else {
            let code = errno
            unlink(temporary)
            throw CredentialStoreError(path: target, operation: "rename into", code: code)
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// An exclusive lock on one token file (a `.lock` beside it, flock(2)), held while a grant
    /// is spent and its successor written. Blocks: take it off the event loop.
    public func lock(server: String, issuer: String) -> CredentialLock? {
        try? makeDirectory()
        let descriptor = open(String(path(server: server, issuer: issuer).dropLast(5)) + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        return CredentialLock(descriptor: descriptor)
    }

    public func delete(server: String, issuer: String) throws(CredentialStoreError) {
        let target = path(server: server, issuer: issuer)
        guard unlink(target) == 0 || errno == ENOENT else { throw CredentialStoreError(path: target, operation: "delete", code: errno) }
    }

    /// Identity and modification time of each of `server`'s token files: a change means the
    /// running instance should read them again.
    public func stamp(server: String) -> [String: String] {
        var result: [String: String] = [:]
        for path in files(of: server) {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            result[path] = "\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        return result
    }

    private func files(of server: String) -> [String] {
        entries().filter { $0.hasPrefix(server + "@") && $0.hasSuffix(".json") }.map { "\(directory)/\($0)" }
    }

    private func entries() -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func read(_ path: String) -> (credentials: StoredCredentials?, problem: String?) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return (nil, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while bytes.count <= 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        guard let value = try? JSONParser.parse(bytes), let credentials = StoredCredentials(json: value) else {
            return (nil, "not a plugboard token file")
        }
        return (credentials, nil)
    }

    private func makeDirectory() throws(CredentialStoreError) {
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw CredentialStoreError(path: prefix, operation: "create directory", code: errno) }
        }
    }
}

public final class CredentialLock: Sendable {
    private let descriptor: Int32
    init(descriptor: Int32) { self.descriptor = descriptor }
    /// Closing the descriptor releases the lock.
    public func release() { close(descriptor) }
}

public struct CredentialStoreError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32
    public var description: String { "cannot \(operation) \(path): \(String(cString: strerror(code)))" }
}

enum HTTPURLHost {
    /// The host of a URL, for file names: letters, digits, dots and dashes only.
    static func of(_ url: String) -> String {
        let host = HTTPURL(url)?.host ?? "issuer"
        return String(host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
