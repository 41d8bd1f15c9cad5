import COpenSSL

/// Why a TLS connection failed, in words a user can act on.
public struct TLSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case certificateExpired
        case certificateNotYetValid
        case unknownAuthority
        case nameMismatch
        case certificateRejected
        case protocolVersion
        case notTLS
        case connectionClosed
        case other
    }

    public let kind: Kind
    public let detail: String
    public var description: String { detail }

    public init(kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// A certificate that failed verification (`X509_V_ERR_…`).
    init(verifyResult code: Int32, serverName: String?) {
        let name = serverName.map { " \($0)" } ?? ""
        switch code {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            self.init(kind: .certificateExpired, detail: "the server's certificate has expired")
        case X509_V_ERR_CERT_NOT_YET_VALID:
            self.init(kind: .certificateNotYetValid, detail: "the server's certificate is not valid yet (check this machine's clock)")
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
            X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, X509_V_ERR_CERT_UNTRUSTED:
            self.init(
                kind: .unknownAuthority,
                detail: "the server's certificate is signed by an unknown certificate authority (trust its CA with ca_file, or fix the server's certificate chain)")
        case X509_V_ERR_HOSTNAME_MISMATCH:
            self.init(kind: .nameMismatch, detail: "the server's certificate does not match the hostname\(name)")
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            self.init(kind: .nameMismatch, detail: "the server's certificate does not match the IP address\(name)")
        default:
            self.init(kind: .certificateRejected, detail: "the server's certificate was rejected: \(String(cString: X509_verify_cert_error_string(Int(code))))")
        }
    }

    /// A failure OpenSSL explained only in its error queue.
    init(openSSLReason reason: String, handshaking: Bool, role: TLSRole) {
        let peer = role == .client ? "the server" : "the client"
        if reason.contains("protocol version") || reason.contains("unsupported protocol") || reason.contains("no protocols available") {
            self.init(kind: .protocolVersion, detail: "\(peer) does not speak TLS 1.2 or later (\(reason))")
        } else if reason.contains("wrong version number") || reason.contains("http request") || reason.contains("packet length too long") {
            self.init(
                kind: .notTLS,
                detail: role == .client
                    ? "the server did not answer in TLS (\(reason)); is it plain http:// rather than https://?"
                    : "the client did not speak TLS (\(reason))")
        } else {
            self.init(kind: .other, detail: handshaking ? "the TLS handshake failed: \(reason)" : "TLS failed: \(reason)")
        }
    }
}
