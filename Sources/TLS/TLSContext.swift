import COpenSSL

/// How a client checks the servers it reaches.
public struct TLSClientSettings: Sendable, Equatable {
    /// PEM file of certificate authorities to trust instead of the system's store.
    public var caFile: String?
    /// Whether the server's certificate is checked at all; off is for tests and emergencies.
    public var verify: Bool

    public init(caFile: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.verify = verify
    }
}

/// An OpenSSL context: the configuration that every connection made from it shares.
/// TLS 1.2 or later, no renegotiation, no compression; clients offer ALPN `http/1.1`.
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    public let role: TLSRole
    let verifiesPeer: Bool

    private init(pointer: OpaquePointer, role: TLSRole, verifiesPeer: Bool) {
        self.pointer = pointer
        self.role = role
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(pointer) }

    /// A client context that verifies servers against the system trust store, or `caFile`.
    public static func client(_ settings: TLSClientSettings) throws(TLSSetupError) -> TLSContext {
        let context = try make(TLS_client_method(), role: .client, verifiesPeer: settings.verify)
        if settings.verify {
            SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER, nil)
            if let caFile = settings.caFile {
                guard SSL_CTX_load_verify_file(context.pointer, caFile) == 1 else {
                    throw TLSSetupError("cannot load ca_file \(caFile): \(OpenSSLErrors.drain())")
                }
            } else if SSL_CTX_set_default_verify_paths(context.pointer) != 1 {
                throw TLSSetupError("cannot load the system's trusted certificates: \(OpenSSLErrors.drain())")
            }
        } else {
            SSL_CTX_set_verify(context.pointer, SSL_VERIFY_NONE, nil)
        }
        let alpn: [UInt8] = [8] + Array("http/1.1".utf8)
        guard SSL_CTX_set_alpn_protos(context.pointer, alpn, UInt32(alpn.count)) == 0 else {
            throw TLSSetupError("cannot offer ALPN http/1.1: \(OpenSSLErrors.drain())")
        }
        return context
    }

    /// A server context presenting the certificate chain in `certificateFile` with the key in
    /// `keyFile` (PEM); fails when either is unreadable or the key does not match the certificate.
    public static func server(certificateFile: String, keyFile: String) throws(TLSSetupError) -> TLSContext {
        let context = try make(TLS_server_method(), role: .server, verifiesPeer: false)
        guard SSL_CTX_use_certificate_chain_file(context.pointer, certificateFile) == 1 else {
            throw TLSSetupError("cannot load the certificate chain \(certificateFile): \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_use_PrivateKey_file(context.pointer, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSSetupError("cannot load the private key \(keyFile): \(OpenSSLErrors.drain())")
        }
        guard SSL_CTX_check_private_key(context.pointer) == 1 else {
            throw TLSSetupError("the private key \(keyFile) does not belong to the certificate \(certificateFile)")
        }
        return context
    }

    private static func make(_ method: OpaquePointer?, role: TLSRole, verifiesPeer: Bool) throws(TLSSetupError) -> TLSContext {
        guard let method, let pointer = SSL_CTX_new(method) else {
            throw TLSSetupError("cannot create a TLS context: \(OpenSSLErrors.drain())")
        }
        let context = TLSContext(pointer: pointer, role: role, verifiesPeer: verifiesPeer)
        guard pb_ssl_ctx_set_min_tls12(pointer) == 1 else {
            throw TLSSetupError("cannot require TLS 1.2 or later: \(OpenSSLErrors.drain())")
        }
        pb_ssl_ctx_set_modes(pointer)
        _ = pb_ssl_ctx_disable_renegotiation(pointer)
        return context
    }
}

public enum TLSRole: Sendable {
    case client
    case server
}

/// A context that could not be set up: unreadable files, a key that does not match.
public struct TLSSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// OpenSSL's thread-local error queue, read and emptied.
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            if let reason = ERR_reason_error_string(code) {
                messages.append(String(cString: reason))
            } else {
                messages.append("error \(code)")
            }
        }
        return messages.isEmpty ? "unknown OpenSSL error" : messages.joined(separator: "; ")
    }

    static func clear() { ERR_clear_error() }
}
