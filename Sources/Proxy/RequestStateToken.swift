import Cryptography
import JSON

/// The `requestState` plugboard mints when it turns a legacy server's mid-call request into an
/// `InputRequiredResult` for a modern client. The client holds it and must hand it back
/// unchanged; mrtr.mdx calls it attacker-controlled input, so it is signed (HMAC-SHA-256 with a
/// key made fresh for each plugboard process), bound to the request it answers, and expires.
///
/// Wire form: `pb1.<payload>.<mac>`, both base64url; the payload is JSON
/// `{"n": nonce, "d": binding digest, "e": expiry on the process's monotonic clock (ns)}`.
struct RequestStateToken {
    static let prefix = "pb1."

    private let key: [UInt8]

    init(key: [UInt8] = Digest.randomBytes(32)) {
        self.key = key
    }

    /// Whether a `requestState` looks like one of plugboard's (and not a server's own).
    static func isPlugboards(_ state: String) -> Bool { state.hasPrefix(prefix) }

    func mint(nonce: String, binding: [UInt8], expiresAt: UInt64) -> String {
        let payload: JSONValue = [
            "n": .string(nonce), "d": .string(Base64.urlEncoded(binding)), "e": .number(JSONNumber(Int64(clamping: expiresAt))),
        ]
        let payloadText = Base64.urlEncoded(payload.serialized())
        let mac = Digest.hmacSHA256(key: key, Array((Self.prefix + payloadText).utf8))
        return Self.prefix + payloadText + "." + Base64.urlEncoded(mac)
    }

    enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformed
        case forged
        case expired
        case otherRequest

        var description: String {
            switch self {
            case .malformed: "requestState is not one plugboard issued (malformed)"
            case .forged: "requestState failed its integrity check (altered, or issued by another plugboard instance)"
            case .expired: "requestState has expired (limits.input_timeout); call again without it"
            case .otherRequest: "requestState was issued for a different request (method or arguments differ)"
            }
        }
    }

    /// The nonce of a genuine, unexpired token issued for a request with `binding`.
    func verify(_ state: String, binding: [UInt8], now: UInt64) -> Result<String, Rejection> {
        guard state.hasPrefix(Self.prefix) else { return .failure(.malformed) }
        let parts = state.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64.decoded(parts[1]), let payloadBytes = Base64.decoded(parts[0]) else {
            return .failure(.malformed)
        }
        let expected = Digest.hmacSHA256(key: key, Array((Self.prefix + parts[0]).utf8))
        guard Digest.constantTimeEquals(mac, expected) else { return .failure(.forged) }
        guard let payload = try? JSONParser.parse(payloadBytes), let nonce = payload["n"]?.stringValue,
            let digest = payload["d"]?.stringValue.flatMap(Base64.decoded), let expiry = payload["e"]?.int64Value
        else { return .failure(.malformed) }
        guard now < UInt64(max(0, expiry)) else { return .failure(.expired) }
        guard Digest.constantTimeEquals(digest, binding) else { return .failure(.otherRequest) }
        return .success(nonce)
    }

    /// What binds a retry to the request it repeats: the method and the params, less the
    /// per-request `_meta` and the MRTR fields, canonically serialized and hashed.
    static func binding(method: String, params: JSONValue?) -> [UInt8] {
        var object = params?.objectValue ?? [:]
        object["_meta"] = nil
        object["inputResponses"] = nil
        object["requestState"] = nil
        var bytes = Array(method.utf8)
        bytes.append(0)
        JSONValue.object(object).serializeCanonically(into: &bytes)
        return Digest.sha256(bytes)
    }
}

extension JSONValue {
    /// Serialization with object keys sorted, so equal values give equal bytes.
    func serializeCanonically(into out: inout [UInt8]) {
        switch self {
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.string(key).serialize(into: &out)
                out.append(UInt8(ascii: ":"))
                object[key]!.serializeCanonically(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.serializeCanonically(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            serialize(into: &out)
        }
    }
}
