import Config
import Foundation
import Glibc
import Network
import Testing

@Suite("listening sockets handed from the outer process to the core")
struct InheritedListenersTests {
    /// One TCP listener on a free loopback port, and the address it got.
    static func loopbackListener() throws -> (InheritedListeners, ListenAddress) {
        var bound = try InheritedListeners.bind([.http(ListenAddress(host: "127.0.0.1", port: 0, family: .ipv4))])
        guard let descriptor = bound.descriptors.values.first, let address = ListeningSocket.boundAddress(of: descriptor, family: .ipv4) else {
            bound.closeAll()
            throw SocketError("bind a loopback listener", code: EADDRNOTAVAIL)
        }
        return (bound, address)
    }

    @Test("each socket is named by its endpoint in the environment and read back as the same endpoint and descriptor")
    func roundTrip() throws {
        let path = NSTemporaryDirectory() + "plugboard-inherit-\(UUID().uuidString.prefix(8)).sock"
        defer { unlink(path) }
        let tcp = ListenAddress(host: "127.0.0.1", port: 0, family: .ipv4)
        var bound = try InheritedListeners.bind([.http(tcp), .unix(path: path)])
        defer { bound.closeAll() }
        var read = try InheritedListeners(environmentValue: bound.environmentValue(numbering: bound.descriptors))
        #expect(read.descriptors == bound.descriptors)
        #expect(read.take(.http(tcp)) == bound.descriptors[.http(tcp)])
        #expect(read.take(.http(tcp)) == nil)
        #expect(read.descriptors.keys.map(\.description) == ["unix \(path)"])
    }

    @Test("a connection made before anyone accepts waits in the backlog of the bound socket")
    func backlogHoldsConnections() throws {
        var (bound, address) = try Self.loopbackListener()
        defer { bound.closeAll() }
        #expect(address.port != 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(address.port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &target.sin_addr)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
    }

    @Test("a malformed value, a standard stream, a repeated descriptor or one that is not listening is an error naming it")
    func malformed() throws {
        var bound = try InheritedListeners.bind([.http(ListenAddress(host: "127.0.0.1", port: 0, family: .ipv4))])
        defer { bound.closeAll() }
        let listening = try #require(bound.descriptors.values.first)
        let notListening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(notListening) }
        let cases = [
            (#"[{"fd": 9}]"#, #"{"fd":9}"#),
            (#"[{"fd": 1, "http": "127.0.0.1:1"}]"#, "a standard stream"),
            (#"[{"fd": \#(listening), "http": "127.0.0.1:1"}, {"fd": \#(listening), "admin": "127.0.0.1:2"}]"#, "named twice"),
            (#"[{"fd": \#(notListening), "http": "127.0.0.1:1"}]"#, "not a listening socket"),
        ]
        for (value, expected) in cases {
            #expect {
                _ = try InheritedListeners(environmentValue: value)
            } throws: { error in
                "\(error)".contains(InheritedListeners.environmentKey) && "\(error)".contains(expected)
            }
        }
    }

    @Test("binding stops at the first endpoint that cannot be bound and says which")
    func bindFailure() throws {
        var (first, taken) = try Self.loopbackListener()
        defer { first.closeAll() }
        #expect {
            _ = try InheritedListeners.bind([.admin(taken)])
        } throws: { error in
            "\(error)".contains("bind \(taken)") && "\(error)".contains("in use")
        }
    }
}
