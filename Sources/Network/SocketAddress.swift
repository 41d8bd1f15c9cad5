import Config
import Glibc

/// `sockaddr_in`/`sockaddr_in6` for a `ListenAddress`, and back.
struct SocketAddress {
    private var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0

    init?(_ address: ListenAddress) {
        switch address.family {
        case .ipv4:
            var inet = sockaddr_in()
            inet.sin_family = sa_family_t(AF_INET)
            inet.sin_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET, address.host, &inet.sin_addr) == 1 else { return nil }
            withUnsafeBytes(of: inet) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .ipv6:
            var inet6 = sockaddr_in6()
            inet6.sin6_family = sa_family_t(AF_INET6)
            inet6.sin6_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET6, address.host, &inet6.sin6_addr) == 1 else { return nil }
            withUnsafeBytes(of: inet6) { bytes in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
    }

    var family: Int32 { Int32(storage.ss_family) }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The local address a socket is bound to (the real port after binding port 0).
    static func local(of descriptor: Int32, family: ListenAddress.Family) -> ListenAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        return describe(storage)
    }

    /// The peer of a connected socket, as `host:port`.
    static func peer(of descriptor: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
        }
        guard result == 0, let address = describe(storage) else { return "unknown" }
        return address.description
    }

    private static func describe(_ storage: sockaddr_storage) -> ListenAddress? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            var inet = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            guard inet_ntop(AF_INET, &inet.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
            return ListenAddress(host: String(cString: text), port: Int(UInt16(bigEndian: inet.sin_port)), family: .ipv4)
        case AF_INET6:
            var inet6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            guard inet_ntop(AF_INET6, &inet6.sin6_addr, &text, socklen_t(text.count)) != nil else { return nil }
            return ListenAddress(host: String(cString: text), port: Int(UInt16(bigEndian: inet6.sin6_port)), family: .ipv6)
        default:
            return nil
        }
    }
}
