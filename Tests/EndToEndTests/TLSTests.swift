import Foundation
import Glibc
import JSON
import Processes
import Testing

/// TLS on both sides of plugboard: one plugboard serves the demo server on an HTTPS listener, a
/// second reaches it as an https upstream with a header secret. The certificates come from the
/// `openssl` command, made for each run.
@Suite("https upstreams and the HTTPS endpoint, plugboard to plugboard", .serialized)
struct TLSTests {
    /// A throwaway CA and a certificate for localhost/127.0.0.1 signed by it.
    struct Certificates {
        let directory: String
        var ca: String { directory + "/ca.pem" }
        var certificate: String { directory + "/server.pem" }
        var key: String { directory + "/server.key" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory + "/plugins.d", withIntermediateDirectories: true)
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.cnf", atomically: true, encoding: .utf8)
            try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=e2e CA"], in: directory)
            try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: directory)
            try Self.openssl(
                ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "san.cnf", "-out", "server.pem"],
                in: directory)
        }

        private static func openssl(_ arguments: [String], in directory: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestTimeout(waitingFor: "openssl \(arguments[0]) to succeed") }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A plugboard serving the demo server on an HTTPS listener at a free port.
    static func front(_ certificates: Certificates) throws -> (PlugboardUnderTest, Int) {
        let port = HTTPTestClient.freePort()
        let config = try TemporaryConfig.demo(
            extra: "[http]\ntls_listen = \"127.0.0.1:\(port)\"\ntls_cert_file = \"\(certificates.certificate)\"\ntls_key_file = \"\(certificates.key)\"\n")
        let front = try PlugboardUnderTest(config: config)
        let deadline = Date().addingTimeInterval(15)
        while deadline.timeIntervalSinceNow > 0 {
            if (try? HTTPTestClient(port: port)) != nil { return (front, port) }
            usleep(50_000)
        }
        throw TestTimeout(waitingFor: "the HTTPS listener on port \(port)")
    }

    @Test("calls pass through an https upstream verified with ca_file, and a plain-HTTP client of the TLS port is refused")
    func plugboardToPlugboard() throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let (front, port) = try Self.front(certificates)
        defer { withExtendedLifetime(front) {} }
        let back = try PlugboardUnderTest(
            config: TemporaryConfig(
                """
                [limits]
                request_timeout = "10s"
                [servers.remote]
                url = "https://localhost:\(port)/mcp"
                ca_file = "\(certificates.ca)"
                headers = { Authorization = "Bearer ${env:E2E_TOKEN}" }
                health_check_interval = "0s"
                """),
            environment: ["E2E_TOKEN": "e2e-secret"])
        let initialized = try back.initialize()
        #expect(initialized["result"]?["serverInfo"]?["name"] == "demo")
        for index in 0..<20 {
            let answer = try back.request("tools/call", ["name": "echo", "arguments": ["text": .string("tls \(index)")]])
            #expect(answer["result"]?["content"]?[0]?["text"]?.stringValue == "tls \(index)")
        }
        let large = try back.request("tools/call", ["name": "payload", "arguments": ["bytes": 200_000]])
        #expect((large["result"]?["content"]?[0]?["text"]?.stringValue?.utf8.count ?? 0) >= 200_000)

        let plain = try HTTPTestClient(port: port)
        plain.get("/healthz")
        #expect((try? plain.response(timeout: 3))?.status != 200)
    }

    @Test("an upstream whose certificate is not trusted fails with the cause, not a timeout")
    func untrustedCertificate() throws {
        let certificates = try Certificates()
        defer { certificates.remove() }
        let (front, port) = try Self.front(certificates)
        defer { withExtendedLifetime(front) {} }
        let back = try PlugboardUnderTest(
            config: TemporaryConfig("[limits]\nrequest_timeout = \"10s\"\n[servers.remote]\nurl = \"https://localhost:\(port)/mcp\"\n"))
        let started = Date()
        let answer = try back.initialize()
        let message = answer["error"]?["message"]?.stringValue ?? ""
        #expect(message.contains("unknown certificate authority"))
        #expect(Date().timeIntervalSince(started) < 8)
    }
}
