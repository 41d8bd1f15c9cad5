/// Eight bytes at a time: where a string stops being plain text.
enum ByteScan {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// For each of the 8 bytes of `word` (little-endian order), a set high bit where the byte
    /// may be `"`, `\` or a control character; callers mask out non-ASCII bytes as they need.
    /// Only the lowest candidate is exact (borrows can set spurious bits above a real match),
    /// which is all the callers use.
    @inline(__always)
    static func quoteBackslashOrControl(_ word: UInt64) -> UInt64 {
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasControl = word &- (ones &* 0x20)
        return hasQuote | hasBackslash | hasControl
    }
}
