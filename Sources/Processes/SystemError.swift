import CSystemShims
import Glibc

/// A failed system call: which call, the errno it set, and what the caller was doing.
///
/// `description` reads "write to upstream stdin: Broken pipe (EPIPE)": the context (or,
/// without one, the call), the strerror text and the errno name.
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The system call or library function that failed, e.g. "write".
    public let call: String
    /// The errno value it reported.
    public let errno: Int32
    /// What the caller was doing, e.g. "write to upstream stdin".
    public var context: String?

    public init(call: String, errno: Int32, context: String? = nil) {
        self.call = call
        self.errno = errno
        self.context = context
    }

    /// The same error with `context` replaced.
    public func withContext(_ context: String) -> SystemError {
        var copy = self
        copy.context = context
        return copy
    }

    /// The strerror text, e.g. "Broken pipe".
    public var message: String { String(cString: strerror(errno)) }

    /// The symbolic errno name, e.g. "EPIPE" (or "errno 123" for unusual values).
    public var errnoName: String { Self.name(ofErrno: errno) }

    public var description: String {
        "\(context ?? call): \(message) (\(errnoName))"
    }

    static func name(ofErrno value: Int32) -> String {
        switch value {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case ESRCH: "ESRCH"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case ENXIO: "ENXIO"
        case E2BIG: "E2BIG"
        case ENOEXEC: "ENOEXEC"
        case EBADF: "EBADF"
        case ECHILD: "ECHILD"
        case EAGAIN: "EAGAIN"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EFAULT: "EFAULT"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENFILE: "ENFILE"
        case EMFILE: "EMFILE"
        case ETXTBSY: "ETXTBSY"
        case EFBIG: "EFBIG"
        case ENOSPC: "ENOSPC"
        case ESPIPE: "ESPIPE"
        case EROFS: "EROFS"
        case EPIPE: "EPIPE"
        case ERANGE: "ERANGE"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case ENOSYS: "ENOSYS"
        case ELOOP: "ELOOP"
        case ENOTSOCK: "ENOTSOCK"
        case EADDRINUSE: "EADDRINUSE"
        case EADDRNOTAVAIL: "EADDRNOTAVAIL"
        case ENETUNREACH: "ENETUNREACH"
        case ECONNABORTED: "ECONNABORTED"
        case ECONNRESET: "ECONNRESET"
        case ENOTCONN: "ENOTCONN"
        case ETIMEDOUT: "ETIMEDOUT"
        case ECONNREFUSED: "ECONNREFUSED"
        case EHOSTUNREACH: "EHOSTUNREACH"
        case EINPROGRESS: "EINPROGRESS"
        case EALREADY: "EALREADY"
        case ECANCELED: "ECANCELED"
        default: "errno \(value)"
        }
    }
}

/// Runs a system call until it does not fail with EINTR.
///
/// `body` returns -1 and sets errno on failure (the usual convention). EBADF and EFAULT
/// mean the caller passed a closed descriptor or a bad pointer: a bug, so they stop the
/// process instead of being thrown.
@inlinable
public func retryingOnInterrupt<Result: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    _ body: () -> Result
) throws(SystemError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = pb_errno()
        if code == EINTR { continue }
        if code == EBADF || code == EFAULT {
            preconditionFailure("\(SystemError(call: call(), errno: code)): a bug in the caller")
        }
        throw SystemError(call: call(), errno: code)
    }
}
