#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A validated string literal: the bytes between its quotes.
package struct JSONStringToken: Sendable {
    /// Offset of the first content byte (just after the opening quote).
    package var start: Int
    /// Offset of the closing quote.
    package var end: Int
    /// Whether the contents contain backslash escapes, so decoding must rewrite them.
    package var hasEscapes: Bool
}

/// A validated number literal.
package struct JSONNumberToken: Sendable {
    package var start: Int
    package var end: Int
    /// The value when the literal is an integer (no fraction or exponent) that fits in Int64.
    package var integerValue: Int64?
    package var isNegative: Bool
}

/// A byte cursor over RFC 8259 JSON shared by `JSONParser` and the JSON-RPC envelope scanner.
///
/// Both build on the same grammar steps (`beginObject`, `readMemberName`, `endOfMember`,
/// `finishObject`, …) so that they accept exactly the same inputs and fail with the
/// same errors. The reader never outlives the buffer it was created over.
package struct JSONSyntaxReader {
    private struct KeyRecord {
        var start: Int
        var end: Int
        var hash: UInt64
        var hasEscapes: Bool
    }

    /// Objects with more members than this are checked for duplicates by sorting
    /// once at the end instead of comparing each new name against all earlier ones.
    private static let linearDuplicateCheckLimit = 32

    package let base: UnsafeRawPointer
    package let end: Int
    package var position: Int
    package let maxDepth: Int
    /// Names of the members of the objects currently open, innermost last.
    private var keys: [KeyRecord] = []

    /// Creates a reader over a non-empty buffer; callers report empty input themselves.
    package init(_ buffer: UnsafeRawBufferPointer, maxDepth: Int) {
        precondition(!buffer.isEmpty, "empty input is rejected before a reader is made")
        base = buffer.baseAddress!
        end = buffer.count
        position = 0
        self.maxDepth = maxDepth
    }

    /// The error for an empty input.
    package static let emptyInputError = JSONError(
        kind: .unexpectedEnd(expected: "a JSON value"), byteOffset: 0, line: 1, column: 1)

    @inline(__always)
    package func byte(at offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    package func error(_ kind: JSONError.Kind, at offset: Int) -> JSONError {
        JSONError(kind: kind, byteOffset: offset, in: UnsafeRawBufferPointer(start: base, count: end))
    }

    /// The error for finding something other than `expected` at the current position.
    package func unexpected(_ expected: StaticString) -> JSONError {
        if position >= end {
            return error(.unexpectedEnd(expected: "\(expected)"), at: end)
        }
        return error(.unexpectedByte(byte(at: position), expected: "\(expected)"), at: position)
    }

    @inline(__always)
    package mutating func skipWhitespace() {
        while position < end {
            switch byte(at: position) {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// Checks that only whitespace follows the top-level value.
    package mutating func finishDocument() throws(JSONError) {
        skipWhitespace()
        if position != end {
            throw error(.trailingData, at: position)
        }
    }

    // MARK: Containers

    /// Consumes `{` and whitespace; returns nil for an empty object (consuming `}` too),
    /// otherwise a mark to pass to `readMemberName` and `finishObject`.
    package mutating func beginObject(depth: Int) throws(JSONError) -> Int? {
        if depth > maxDepth {
            throw error(.depthLimitExceeded(limit: maxDepth), at: position)
        }
        position += 1
        skipWhitespace()
        guard position < end else { throw unexpected("a member name or '}'") }
        if byte(at: position) == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        return keys.count
    }

    /// Reads a member name, rejects it if the object already has it, and consumes the `:`
    /// and whitespace after it, leaving the position at the member's value.
    package mutating func readMemberName(objectMark: Int, isFirst: Bool) throws(JSONError) -> JSONStringToken {
        guard position < end, byte(at: position) == UInt8(ascii: "\"") else {
            throw unexpected(isFirst ? "a member name or '}'" : "a member name after ','")
        }
        let name = try scanString()
        try register(name, objectMark: objectMark)
        skipWhitespace()
        guard position < end, byte(at: position) == UInt8(ascii: ":") else {
            throw unexpected("':' after member name")
        }
        position += 1
        skipWhitespace()
        return name
    }

    /// After a member's value: returns true having consumed `,` (more members follow),
    /// false having consumed `}`.
    package mutating func endOfMember() throws(JSONError) -> Bool {
        skipWhitespace()
        guard position < end else { throw unexpected("',' or '}' after object member") }
        switch byte(at: position) {
        case UInt8(ascii: ","):
            position += 1
            skipWhitespace()
            return true
        case UInt8(ascii: "}"):
            position += 1
            return false
        default:
            throw unexpected("',' or '}' after object member")
        }
    }

    /// Completes the duplicate check of a closed object and forgets its member names.
    package mutating func finishObject(objectMark: Int) throws(JSONError) {
        let count = keys.count - objectMark
        if count > Self.linearDuplicateCheckLimit {
            try checkDuplicatesBySorting(from: objectMark)
        }
        keys.removeLast(count)
    }

    /// Consumes `[` and whitespace; returns false for an empty array (consuming `]` too).
    package mutating func beginArray(depth: Int) throws(JSONError) -> Bool {
        if depth > maxDepth {
            throw error(.depthLimitExceeded(limit: maxDepth), at: position)
        }
        position += 1
        skipWhitespace()
        guard position < end else { throw unexpected("a value or ']'") }
        if byte(at: position) == UInt8(ascii: "]") {
            position += 1
            return false
        }
        return true
    }

    /// After an element: returns true having consumed `,`, false having consumed `]`.
    package mutating func endOfElement() throws(JSONError) -> Bool {
        skipWhitespace()
        guard position < end else { throw unexpected("',' or ']' after array element") }
        switch byte(at: position) {
        case UInt8(ascii: ","):
            position += 1
            skipWhitespace()
            return true
        case UInt8(ascii: "]"):
            position += 1
            return false
        default:
            throw unexpected("',' or ']' after array element")
        }
    }

    // MARK: Skipping

    /// Validates one value without building it; `depth` is the nesting depth of the
    /// container holding it (0 at top level).
    package mutating func skipValue(depth: Int, expected: StaticString) throws(JSONError) {
        guard position < end else { throw unexpected(expected) }
        switch byte(at: position) {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "{"):
            guard let mark = try beginObject(depth: depth + 1) else { return }
            var isFirst = true
            repeat {
                _ = try readMemberName(objectMark: mark, isFirst: isFirst)
                isFirst = false
                try skipValue(depth: depth + 1, expected: "a value after ':'")
            } while try endOfMember()
            try finishObject(objectMark: mark)
        case UInt8(ascii: "["):
            guard try beginArray(depth: depth + 1) else { return }
            var expected: StaticString = "a value or ']'"
            repeat {
                try skipValue(depth: depth + 1, expected: expected)
                expected = "a value after ','"
            } while try endOfElement()
        case UInt8(ascii: "t"):
            try scanLiteral("true")
        case UInt8(ascii: "f"):
            try scanLiteral("false")
        case UInt8(ascii: "n"):
            try scanLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        default:
            throw unexpected(expected)
        }
    }

    // MARK: Literals and numbers

    package mutating func scanLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        let expected = "'\(literal)'"
        for k in 0..<count {
            let offset = position + k
            guard offset < end else { throw error(.unexpectedEnd(expected: expected), at: end) }
            let found = byte(at: offset)
            guard found == literal.utf8Start[k] else {
                throw error(.unexpectedByte(found, expected: expected), at: offset)
            }
        }
        position += count
    }

    /// Validates a number at the position (which holds `-` or a digit) and consumes it.
    package mutating func scanNumber() throws(JSONError) -> JSONNumberToken {
        let start = position
        var i = position
        let isNegative = byte(at: i) == UInt8(ascii: "-")
        if isNegative { i += 1 }
        guard i < end else { throw error(.unexpectedEnd(expected: "a digit after '-'"), at: end) }
        let zero = UInt8(ascii: "0")
        var first = byte(at: i)
        guard first &- zero < 10 else { throw error(.unexpectedByte(first, expected: "a digit after '-'"), at: i) }
        // Accumulating negatively reaches Int64.min without overflow.
        var value: Int64 = 0
        var fits = true
        i += 1
        if first == zero {
            if i < end, byte(at: i) &- zero < 10 {
                throw error(.invalidNumber(reason: "leading zeros are not allowed"), at: i)
            }
        } else {
            value = -Int64(first &- zero)
            while i < end {
                first = byte(at: i)
                let digit = first &- zero
                guard digit < 10 else { break }
                if fits {
                    let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times10.subtractingReportingOverflow(Int64(digit))
                    fits = !(o1 || o2)
                    value = next
                }
                i += 1
            }
        }
        var isInteger = true
        if i < end, byte(at: i) == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < end else { throw error(.unexpectedEnd(expected: "a digit after '.'"), at: end) }
            guard byte(at: i) &- zero < 10 else {
                throw error(.unexpectedByte(byte(at: i), expected: "a digit after '.'"), at: i)
            }
            while i < end, byte(at: i) &- zero < 10 { i += 1 }
        }
        if i < end, byte(at: i) | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            i += 1
            if i < end, byte(at: i) == UInt8(ascii: "+") || byte(at: i) == UInt8(ascii: "-") { i += 1 }
            guard i < end else { throw error(.unexpectedEnd(expected: "a digit in the exponent"), at: end) }
            guard byte(at: i) &- zero < 10 else {
                throw error(.unexpectedByte(byte(at: i), expected: "a digit in the exponent"), at: i)
            }
            while i < end, byte(at: i) &- zero < 10 { i += 1 }
        }
        position = i
        var integerValue: Int64? = nil
        if isInteger && fits {
            if isNegative {
                integerValue = value
            } else if value != .min {
                integerValue = -value
            }
        }
        return JSONNumberToken(start: start, end: i, integerValue: integerValue, isNegative: isNegative)
    }

    // MARK: Strings

    /// Validates a string at the position (which holds `"`) and consumes it: UTF-8,
    /// escapes, surrogate pairs and the absence of raw control characters.
    package mutating func scanString() throws(JSONError) -> JSONStringToken {
        let start = position + 1
        var i = start
        var hasEscapes = false
        while true {
            if i &+ 8 <= end {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let mask = Self.attentionMask(word)
                if mask == 0 {
                    i &+= 8
                    continue
                }
                i &+= mask.trailingZeroBitCount &>> 3
            } else if i >= end {
                throw error(.unexpectedEnd(expected: "'\"' to close the string"), at: end)
            }
            let c = byte(at: i)
            if c == UInt8(ascii: "\"") {
                position = i + 1
                return JSONStringToken(start: start, end: i, hasEscapes: hasEscapes)
            } else if c == UInt8(ascii: "\\") {
                hasEscapes = true
                i = try validateEscape(at: i)
            } else if c >= 0x80 {
                i = try validateUTF8Sequence(at: i)
            } else if c < 0x20 {
                throw error(.unescapedControlCharacter(c), at: i)
            } else {
                i += 1
            }
        }
    }

    /// The high bit of each of the 8 bytes (little-endian order) that is `"`, `\`, a
    /// control character or non-ASCII. Only the lowest set bit is exact (borrows can set
    /// spurious bits above a real match), which is all the caller uses.
    @inline(__always)
    private static func attentionMask(_ word: UInt64) -> UInt64 {
        ((ByteScan.quoteBackslashOrControl(word) & ~word) | word) & ByteScan.highs
    }

    /// Validates the escape whose backslash is at `i`; returns the offset after it.
    @inline(__always)
    private func validateEscape(at i: Int) throws(JSONError) -> Int {
        guard i + 1 < end else { throw error(.unexpectedEnd(expected: "an escape character after '\\'"), at: end) }
        switch byte(at: i + 1) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i + 2
        case UInt8(ascii: "u"):
            let unit = try readHex4(at: i + 2)
            switch unit {
            case 0xDC00...0xDFFF:
                throw error(.loneSurrogate(unit), at: i)
            case 0xD800...0xDBFF:
                guard i + 7 < end, byte(at: i + 6) == UInt8(ascii: "\\"), byte(at: i + 7) == UInt8(ascii: "u") else {
                    throw error(.loneSurrogate(unit), at: i)
                }
                let low = try readHex4(at: i + 8)
                guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate(unit), at: i) }
                return i + 12
            default:
                return i + 6
            }
        default:
            throw error(.invalidEscape(byte(at: i + 1)), at: i)
        }
    }

    private func readHex4(at offset: Int) throws(JSONError) -> UInt16 {
        var value: UInt16 = 0
        for k in offset..<offset + 4 {
            guard k < end else { throw error(.unexpectedEnd(expected: "a hex digit in '\\u' escape"), at: end) }
            guard let digit = Self.hexValue(byte(at: k)) else {
                throw error(.unexpectedByte(byte(at: k), expected: "a hex digit in '\\u' escape"), at: k)
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    @inline(__always)
    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Validates the multi-byte UTF-8 sequence led by the byte at `i` (RFC 3629: no
    /// overlong forms, no surrogates, nothing above U+10FFFF); returns the offset after it.
    @inline(__always)
    private func validateUTF8Sequence(at i: Int) throws(JSONError) -> Int {
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let continuationCount: Int
        switch byte(at: i) {
        case 0xC2...0xDF: continuationCount = 1
        case 0xE0: continuationCount = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuationCount = 2
        case 0xED: continuationCount = 2; high = 0x9F
        case 0xF0: continuationCount = 3; low = 0x90
        case 0xF1...0xF3: continuationCount = 3
        case 0xF4: continuationCount = 3; high = 0x8F
        default: throw error(.invalidUTF8, at: i)
        }
        guard i + continuationCount < end else { throw error(.invalidUTF8, at: i) }
        guard (low...high).contains(byte(at: i + 1)) else { throw error(.invalidUTF8, at: i) }
        var k = 2
        while k <= continuationCount {
            guard byte(at: i + k) & 0xC0 == 0x80 else { throw error(.invalidUTF8, at: i) }
            k += 1
        }
        return i + continuationCount + 1
    }

    /// The contents of a validated string.
    package func decodeString(_ token: JSONStringToken) -> String {
        let count = token.end - token.start
        if !token.hasEscapes {
            let bytes = UnsafeBufferPointer(
                start: (base + token.start).assumingMemoryBound(to: UInt8.self), count: count)
            return String(decoding: bytes, as: UTF8.self)
        }
        // Escapes never decode to more bytes than they take, so the raw length is enough.
        return String(unsafeUninitializedCapacity: count) { buffer in
            decode(token, into: buffer.baseAddress!)
        }
    }

    /// The UTF-8 bytes of a validated string's contents.
    package func decodeBytes(_ token: JSONStringToken) -> [UInt8] {
        let count = token.end - token.start
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count == 0 ? 0 : decode(token, into: buffer.baseAddress!)
        }
    }

    /// Whether a validated string's contents are exactly `literal` (ASCII).
    package func string(_ token: JSONStringToken, equals literal: StaticString) -> Bool {
        if token.hasEscapes {
            let bytes = decodeBytes(token)
            return bytes.count == literal.utf8CodeUnitCount
                && memcmp(bytes, literal.utf8Start, bytes.count) == 0
        }
        let count = token.end - token.start
        return count == literal.utf8CodeUnitCount && memcmp(base + token.start, literal.utf8Start, count) == 0
    }

    private func decode(_ token: JSONStringToken, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var i = token.start
        var o = 0
        while i < token.end {
            let runEnd: Int
            if let found = memchr(base + i, 0x5C, token.end - i) {
                runEnd = base.distance(to: UnsafeRawPointer(found))
            } else {
                runEnd = token.end
            }
            if runEnd > i {
                UnsafeMutableRawPointer(out + o).copyMemory(from: base + i, byteCount: runEnd - i)
                o += runEnd - i
                i = runEnd
            }
            guard i < token.end else { break }
            let escaped = byte(at: i + 1)
            i += 2
            switch escaped {
            case UInt8(ascii: "b"): out[o] = 0x08
            case UInt8(ascii: "f"): out[o] = 0x0C
            case UInt8(ascii: "n"): out[o] = 0x0A
            case UInt8(ascii: "r"): out[o] = 0x0D
            case UInt8(ascii: "t"): out[o] = 0x09
            case UInt8(ascii: "u"):
                var scalar = UInt32(hex4Unchecked(at: i))
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = UInt32(hex4Unchecked(at: i + 2))
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                o += Self.writeUTF8(scalar, to: out + o)
                continue
            default: out[o] = escaped  // '"', '\\' and '/'
            }
            o += 1
        }
        return o
    }

    private func hex4Unchecked(at offset: Int) -> UInt16 {
        var value: UInt16 = 0
        for k in offset..<offset + 4 {
            value = value << 4 | UInt16(Self.hexValue(byte(at: k)) ?? 0)
        }
        return value
    }

    private static func writeUTF8(_ scalar: UInt32, to out: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            out[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | scalar >> 6)
            out[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | scalar >> 12)
            out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            out[0] = UInt8(0xF0 | scalar >> 18)
            out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }

    // MARK: Duplicate member names

    private mutating func register(_ name: JSONStringToken, objectMark: Int) throws(JSONError) {
        let record = KeyRecord(start: name.start, end: name.end, hash: hash(of: name), hasEscapes: name.hasEscapes)
        if keys.count - objectMark < Self.linearDuplicateCheckLimit {
            for earlier in keys[objectMark...] where earlier.hash == record.hash && sameName(earlier, record) {
                throw duplicateKeyError(record)
            }
        }
        if keys.capacity == 0 { keys.reserveCapacity(16) }
        keys.append(record)
    }

    private mutating func checkDuplicatesBySorting(from objectMark: Int) throws(JSONError) {
        keys[objectMark...].sort { ($0.hash, $0.start) < ($1.hash, $1.start) }
        // Report the duplicate that appears first in the text, as a linear check would.
        var firstDuplicate: KeyRecord? = nil
        var i = objectMark
        while i < keys.count {
            var j = i + 1
            while j < keys.count, keys[j].hash == keys[i].hash {
                if sameName(keys[i], keys[j]), keys[j].start < firstDuplicate?.start ?? .max {
                    firstDuplicate = keys[j]
                }
                j += 1
            }
            i += 1
        }
        if let firstDuplicate { throw duplicateKeyError(firstDuplicate) }
    }

    private func duplicateKeyError(_ record: KeyRecord) -> JSONError {
        let name = decodeString(JSONStringToken(start: record.start, end: record.end, hasEscapes: record.hasEscapes))
        return error(.duplicateKey(name), at: record.start - 1)
    }

    private func hash(of name: JSONStringToken) -> UInt64 {
        if name.hasEscapes {
            return decodeBytes(name).withUnsafeBytes { Self.fnv1a($0) }
        }
        return Self.fnv1a(UnsafeRawBufferPointer(start: base + name.start, count: name.end - name.start))
    }

    private static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }

    private func sameName(_ a: KeyRecord, _ b: KeyRecord) -> Bool {
        if !a.hasEscapes && !b.hasEscapes {
            let count = a.end - a.start
            return count == b.end - b.start && memcmp(base + a.start, base + b.start, count) == 0
        }
        let decodedA = decodeBytes(JSONStringToken(start: a.start, end: a.end, hasEscapes: a.hasEscapes))
        let decodedB = decodeBytes(JSONStringToken(start: b.start, end: b.end, hasEscapes: b.hasEscapes))
        return decodedA == decodedB
    }
}
