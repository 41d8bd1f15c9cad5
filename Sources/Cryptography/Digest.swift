import COpenSSL

/// SHA-256 and HMAC-SHA-256 from the system's libcrypto; plugboard writes no cryptography of its own.
public enum Digest {
    public static let sha256ByteCount = 32

    /// The SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1 && length == sha256ByteCount, "EVP_Digest(SHA-256) failed")
        return Array(digest.prefix(Int(length)))
    }

    /// HMAC-SHA-256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { input in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count), input.bindMemory(to: UInt8.self).baseAddress,
                    input.count, &mac, &length)
            }
        }
        precondition(result != nil && length == sha256ByteCount, "HMAC(SHA-256) failed")
        return Array(mac.prefix(Int(length)))
    }

    /// Compares two byte strings in time that depends only on their length.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0 } }
    }

    /// `count` bytes from libcrypto's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.bindMemory(to: UInt8.self).baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return bytes
    }
}
