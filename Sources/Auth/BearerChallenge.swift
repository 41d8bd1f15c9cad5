/// A `Bearer` challenge from a `WWW-Authenticate` header (RFC 6750 §3, RFC 9728 §5.1).
public struct BearerChallenge: Sendable, Equatable {
    /// `invalid_token`, `insufficient_scope`, `invalid_request`, or nil when no token was sent.
    public var error: String?
    public var errorDescription: String?
    /// The scopes the request needs, in the server's order.
    public var scopes: [String]
    /// Where the protected resource metadata is (RFC 9728).
    public var resourceMetadata: String?

    public init(error: String? = nil, errorDescription: String? = nil, scopes: [String] = [], resourceMetadata: String? = nil) {
        self.error = error
        self.errorDescription = errorDescription
        self.scopes = scopes
        self.resourceMetadata = resourceMetadata
    }

    public var isInsufficientScope: Bool { error == "insufficient_scope" }

    /// The first Bearer challenge among `WWW-Authenticate` field values, which may each hold
    /// several challenges (`Basic realm="x", Bearer scope="a b"`); nil when there is none.
    public static func parse(_ fieldValues: [String]) -> BearerChallenge? {
        for value in fieldValues {
            for challenge in AuthenticationChallenges(value).all where challenge.scheme.lowercased() == "bearer" {
                var bearer = BearerChallenge()
                for (name, value) in challenge.parameters {
                    switch name.lowercased() {
                    case "error": bearer.error = value
                    case "error_description": bearer.errorDescription = value
                    case "scope": bearer.scopes = value.split(separator: " ").map(String.init)
                    case "resource_metadata": bearer.resourceMetadata = value
                    default: break
                    }
                }
                return bearer
            }
        }
        return nil
    }
}

/// The challenges in one `WWW-Authenticate` value (RFC 9110 §11.6.1): a scheme, then a token68
/// or comma-separated `name=token` / `name="quoted"` parameters, up to the next scheme.
struct AuthenticationChallenges {
    struct Challenge {
        var scheme: String
        var parameters: [(String, String)] = []
    }

    private(set) var all: [Challenge] = []
    private let bytes: [UInt8]
    private var index = 0

    init(_ value: String) {
        bytes = Array(value.utf8)
        parse()
    }

    private mutating func parse() {
        while true {
            skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C }
            guard let scheme = token(), !scheme.isEmpty else { return }
            var challenge = Challenge(scheme: scheme)
            while true {
                skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C }
                let mark = index
                guard let name = token(), !name.isEmpty else { break }
                skip { $0 == 0x20 || $0 == 0x09 }
                guard index < bytes.count, bytes[index] == 0x3D else {
                    // A bare token after a comma starts the next challenge.
                    index = mark
                    break
                }
                index += 1
                skip { $0 == 0x20 || $0 == 0x09 }
                if index < bytes.count, bytes[index] == 0x3D {
                    // token68 padding, as in `Basic abc==`: not a parameter list.
                    skip { $0 == 0x3D }
                    continue
                }
                challenge.parameters.append((name, quotedOrToken()))
            }
            all.append(challenge)
        }
    }

    private mutating func skip(while predicate: (UInt8) -> Bool) {
        while index < bytes.count, predicate(bytes[index]) { index += 1 }
    }

    private mutating func token() -> String? {
        let start = index
        while index < bytes.count, Self.isTokenByte(bytes[index]) { index += 1 }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    /// A quoted string, or up to the next comma or space: servers that leave `scope=a:b`
    /// unquoted (not a token by RFC 9110) are common enough to read generously.
    private mutating func quotedOrToken() -> String {
        guard index < bytes.count, bytes[index] == 0x22 else {
            let start = index
            while index < bytes.count, bytes[index] != 0x2C, bytes[index] != 0x20, bytes[index] != 0x09 { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        index += 1
        var value: [UInt8] = []
        while index < bytes.count, bytes[index] != 0x22 {
            if bytes[index] == 0x5C, index + 1 < bytes.count { index += 1 }
            value.append(bytes[index])
            index += 1
        }
        index += 1
        return String(decoding: value, as: UTF8.self)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
