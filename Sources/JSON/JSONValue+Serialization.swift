extension JSONValue {
    /// Compact JSON text (no insignificant whitespace) as UTF-8.
    ///
    /// Strings escape `"`, `\` and control characters (`\b \f \n \r \t`, others as
    /// `\u00XX`); everything else, including `/` and non-ASCII, is written raw.
    /// Numbers are written as their literal text.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(estimatedSerializedByteCount)
        serialize(into: &out)
        return out
    }

    /// Appends compact JSON text to `out`.
    public func serialize(into out: inout [UInt8]) {
        switch self {
        case .null:
            out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
        case .bool(true):
            out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        case .bool(false):
            out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        case .number(let number):
            number.append(to: &out)
        case .string(let string):
            Self.appendString(string, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.serialize(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.serialize(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Compact JSON text.
    public var serializedString: String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// A close lower bound of the serialized size, so one reservation usually suffices.
    package var estimatedSerializedByteCount: Int {
        switch self {
        case .null, .bool: return 5
        case .number: return 8
        case .string(let string): return string.utf8.count + 2
        case .array(let elements):
            var total = elements.count + 1
            for element in elements { total += element.estimatedSerializedByteCount }
            return total
        case .object(let object):
            var total = object.count * 4 + 1
            for member in object.members {
                total += member.key.utf8.count + member.value.estimatedSerializedByteCount
            }
            return total
        }
    }

    /// Appends `string` quoted and escaped.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { appendEscaped($0, to: &out) }
        if done == nil {
            Array(string.utf8).withUnsafeBufferPointer { appendEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var runStart = 0
        var i = 0
        while i < count {
            if i &+ 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let mask = escapeMask(word)
                if mask == 0 {
                    i &+= 8
                    continue
                }
                i &+= mask.trailingZeroBitCount &>> 3
            }
            let c = base[i]
            guard c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 else {
                i += 1
                continue
            }
            if i > runStart {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
            }
            appendEscape(for: c, to: &out)
            i += 1
            runStart = i
        }
        if count > runStart {
            out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart))
        }
    }

    /// The high bit of each of the 8 bytes (little-endian order) that is `"`, `\` or a
    /// control character. Only the lowest set bit is exact (borrows can set spurious
    /// bits above a real match), which is all the caller uses.
    @inline(__always)
    private static func escapeMask(_ word: UInt64) -> UInt64 {
        ByteScan.quoteBackslashOrControl(word) & ~word & ByteScan.highs
    }

    private static func appendEscape(for c: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch c {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            let low = c & 0xF
            out.append(contentsOf: [
                UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), UInt8(ascii: "0") + (c >> 4),
                low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10,
            ])
        }
    }
}
