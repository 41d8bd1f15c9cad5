import COpenSSL
import Glibc

/// One TLS connection over a non-blocking socket that OpenSSL reads and writes itself.
/// Every call returns at once: when OpenSSL needs the socket to become readable or writable
/// first, it says so, and the caller waits for that on its event loop before calling again.
public final class TLSSession {
    /// What a handshake, read or write step came to.
    public enum Outcome: Equatable {
        /// The handshake is complete, or so many bytes were read or written.
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer ended the TLS session (close_notify, or the connection closed).
        case closed
        case failed(TLSFailure)
    }

    private let ssl: OpaquePointer
    private let context: TLSContext
    /// The name the client asked for and checked the certificate against.
    public let serverName: String?
    public private(set) var isHandshakeComplete = false

    /// A session on the connected socket `descriptor`. A client names the server it expects
    /// (`serverName`, a DNS name or an IP literal): it is sent as SNI (names only) and the
    /// certificate must match it.
    public init(context: TLSContext, descriptor: Int32, serverName: String?) throws(TLSSetupError) {
        guard let ssl = SSL_new(context.pointer) else {
            throw TLSSetupError("cannot create a TLS session: \(OpenSSLErrors.drain())")
        }
        self.ssl = ssl
        self.context = context
        self.serverName = serverName
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            throw TLSSetupError("cannot attach TLS to the socket: \(OpenSSLErrors.drain())")
        }
        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let serverName {
                if Self.isIPAddress(serverName) {
                    if context.verifiesPeer { X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) }
                } else {
                    _ = pb_ssl_set_server_name(ssl, serverName)
                    if context.verifiesPeer { SSL_set1_host(ssl, serverName) }
                }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake.
    public func handshake() -> Outcome {
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            return .done(0)
        }
        return outcome(ofFailed: result, handshaking: true)
    }

    /// Reads decrypted bytes into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return .done(0) }
        OpenSSLErrors.clear()
        let count = SSL_read(ssl, base, Int32(clamping: buffer.count))
        return count > 0 ? .done(Int(count)) : outcome(ofFailed: count, handshaking: false)
    }

    /// Encrypts and writes a prefix of `bytes`. After `wantRead`/`wantWrite`, call again with
    /// the same bytes at the front (more may follow).
    public func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .done(0) }
        OpenSSLErrors.clear()
        let count = SSL_write(ssl, base, Int32(clamping: bytes.count))
        return count > 0 ? .done(Int(count)) : outcome(ofFailed: count, handshaking: false)
    }

    /// Whether decrypted bytes wait inside OpenSSL, which the socket's readiness cannot show.
    public var hasBufferedBytes: Bool { SSL_pending(ssl) > 0 }

    /// Sends close_notify, without waiting for the peer's.
    public func shutdown() {
        guard isHandshakeComplete else { return }
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrors.clear()
    }

    private func outcome(ofFailed result: Int32, handshaking: Bool) -> Outcome {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let systemError = errno
            let queued = ERR_peek_error()
            if queued == 0 {
                if !handshaking { return .closed }
                return .failed(
                    TLSFailure(
                        kind: .connectionClosed,
                        detail: systemError == 0
                            ? "the peer closed the connection during the TLS handshake"
                            : "the TLS handshake failed: \(String(cString: strerror(systemError)))"))
            }
            return .failed(failure(handshaking: handshaking))
        default:
            return .failed(failure(handshaking: handshaking))
        }
    }

    private func failure(handshaking: Bool) -> TLSFailure {
        if handshaking, context.role == .client, context.verifiesPeer {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                OpenSSLErrors.clear()
                return TLSFailure(verifyResult: Int32(verify), serverName: serverName)
            }
        }
        return TLSFailure(openSSLReason: OpenSSLErrors.drain(), handshaking: handshaking, role: context.role)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
