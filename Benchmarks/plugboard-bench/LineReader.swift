import Glibc
import Processes

/// Splits a blocking descriptor's bytes into newline-terminated lines without copying
/// them out: `nextLine` lends the line's bytes to a closure.
struct LineReader: ~Copyable {
    private let descriptor: FileDescriptor
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0  // first byte of the current (unfinished) line
    private var end = 0  // one past the last byte read
    private var scanned = 0  // bytes before this index hold no newline

    init(_ descriptor: FileDescriptor, capacity: Int = 256 * 1024) {
        self.descriptor = descriptor
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// Reads until a full line is buffered and calls `body` with it (newline excluded);
    /// nil at end of file.
    mutating func nextLine<Result>(_ body: (UnsafeRawBufferPointer) -> Result) throws(SystemError) -> Result? {
        while true {
            if scanned < end, let base = storage.baseAddress,
                let newline = memchr(base + scanned, Int32(UInt8(ascii: "\n")), end - scanned)
            {
                let index = base.distance(to: newline)
                let result = body(UnsafeRawBufferPointer(rebasing: storage[start..<index]))
                start = index + 1
                scanned = start
                return result
            }
            scanned = end
            if end == storage.count { makeRoom() }
            let count = try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: storage[end...]))
            if count == 0 { return nil }
            end += count
        }
    }

    private mutating func makeRoom() {
        let pending = end - start
        if start > 0 {
            storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: pending)
        } else {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 16)
            larger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: pending)
            storage.deallocate()
            storage = larger
        }
        start = 0
        end = pending
        scanned = pending
    }
}

extension UnsafeRawBufferPointer {
    /// The value of a top-level-looking `"key": <integer>` member, found without parsing
    /// the JSON: an unescaped `"key"` can only be a member name (quotes inside strings
    /// are escaped). Returns the first match.
    func integerMember(_ key: StaticString) -> Int? {
        guard let position = memberValueStart(key) else { return nil }
        var value = 0, index = position, digits = 0
        while index < count, self[index] >= UInt8(ascii: "0"), self[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(self[index] - UInt8(ascii: "0"))
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// True if a member named `key` appears.
    func hasMember(_ key: StaticString) -> Bool {
        memberValueStart(key) != nil
    }

    private func memberValueStart(_ key: StaticString) -> Int? {
        guard let base = baseAddress else { return nil }
        let keyLength = key.utf8CodeUnitCount
        var index = 0
        while index < count, let quote = memchr(base + index, Int32(UInt8(ascii: "\"")), count - index) {
            let at = base.distance(to: quote)
            let afterKey = at + 1 + keyLength
            if afterKey < count, self[afterKey] == UInt8(ascii: "\""),
                memcmp(base + at + 1, key.utf8Start, keyLength) == 0
            {
                var value = afterKey + 1
                while value < count, self[value] == UInt8(ascii: " ") { value += 1 }
                if value < count, self[value] == UInt8(ascii: ":") {
                    value += 1
                    while value < count, self[value] == UInt8(ascii: " ") { value += 1 }
                    return value
                }
            }
            index = at + 1
        }
        return nil
    }
}
