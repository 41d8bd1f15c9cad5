import CSystemShims
import Glibc

/// A raw file descriptor. A thin wrapper: it does not close itself; whoever created it
/// decides when to call `close()`.
public struct FileDescriptor: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let standardInput = FileDescriptor(rawValue: STDIN_FILENO)
    public static let standardOutput = FileDescriptor(rawValue: STDOUT_FILENO)
    public static let standardError = FileDescriptor(rawValue: STDERR_FILENO)

    public var description: String { "fd \(rawValue)" }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    ///
    /// Retries EINTR. On a non-blocking descriptor with nothing to read it throws EAGAIN:
    /// the caller decides whether to wait.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try retryingOnInterrupt("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes up to `bytes.count` bytes and returns how many were written. Retries EINTR.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        try retryingOnInterrupt("write") { Glibc.write(rawValue, bytes.baseAddress, bytes.count) }
    }

    /// Writes every byte, looping over partial writes. Meant for blocking descriptors:
    /// a non-blocking one that fills up throws EAGAIN part-way.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            offset += try write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
    }

    /// Writes every byte, looping over partial writes (see `writeAll(_:)` above).
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        // withUnsafeBytes cannot carry a typed throw through its generic rethrows.
        var failure: SystemError?
        bytes.withUnsafeBytes { buffer in
            do throws(SystemError) { try writeAll(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Closes the descriptor. EINTR is not retried: on Linux the descriptor is gone either way.
    public func close() {
        if Glibc.close(rawValue) == -1 {
            let code = pb_errno()
            precondition(code != EBADF, "close(\(rawValue)): descriptor already closed: a bug in the caller")
        }
    }

    /// Sets or clears O_NONBLOCK.
    public func setNonBlocking(_ on: Bool) throws(SystemError) {
        let flags = try retryingOnInterrupt("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags {
            _ = try retryingOnInterrupt("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, wanted) }
        }
    }

    /// Sets or clears FD_CLOEXEC.
    public func setCloseOnExec(_ on: Bool) throws(SystemError) {
        let flags = try retryingOnInterrupt("fcntl(F_GETFD)") { fcntl(rawValue, F_GETFD) }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags {
            _ = try retryingOnInterrupt("fcntl(F_SETFD)") { fcntl(rawValue, F_SETFD, wanted) }
        }
    }

    /// A new pipe, both ends close-on-exec.
    public static func pipe() throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: (Int32, Int32) = (-1, -1)
        _ = try withUnsafeMutablePointer(to: &fds) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: Int32.self, capacity: 2) { fds throws(SystemError) in
                try retryingOnInterrupt("pipe2") { pb_pipe_cloexec(fds) }
            }
        }
        return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
    }
}
