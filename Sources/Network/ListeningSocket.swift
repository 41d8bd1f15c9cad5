import Config
import Glibc

/// Binding listening sockets: the descriptors `TCPListener` and the Unix-socket frontend accept
/// on, whether this process binds them or a parent bound them and passed them down.
public enum ListeningSocket {
    /// A non-blocking, close-on-exec TCP socket listening on `requested` (port 0: any free port).
    public static func tcp(_ requested: ListenAddress, backlog: Int32 = 511) throws(SocketError) -> Int32 {
        guard let socketAddress = SocketAddress(requested) else { throw SocketError("parse \(requested)", code: EINVAL) }
        let descriptor = socket(socketAddress.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket for \(requested)") }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if requested.family == .ipv6 {
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        guard socketAddress.withSockaddr({ bind(descriptor, $0, $1) }) == 0 else { throw failed("bind \(requested)", closing: descriptor) }
        guard listen(descriptor, backlog) == 0 else { throw failed("listen on \(requested)", closing: descriptor) }
        return descriptor
    }

    /// A non-blocking, close-on-exec Unix stream socket listening at `path`, mode 0600 (only this
    /// user may connect). A stale socket left by an earlier instance is replaced; any other file
    /// at `path` is an error.
    public static func unix(path: String, backlog: Int32 = 128) throws(SocketError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SocketError("bind \(path) (a path longer than 107 bytes)", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard (existing.st_mode & S_IFMT) == S_IFSOCK else { throw SocketError("bind \(path) (not a socket)", code: EEXIST) }
            unlink(path)
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket for \(path)") }
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard bound == 0 else { throw failed("bind \(path)", closing: descriptor) }
        guard listen(descriptor, backlog) == 0 else { throw failed("listen on \(path)", closing: descriptor) }
        return descriptor
    }

    /// The address a TCP listening socket is bound to (the real port after port 0).
    public static func boundAddress(of descriptor: Int32, family: ListenAddress.Family) -> ListenAddress? {
        SocketAddress.local(of: descriptor, family: family)
    }

    private static func failed(_ operation: String, closing descriptor: Int32) -> SocketError {
        let error = SocketError(operation)
        Glibc.close(descriptor)
        return error
    }
}
