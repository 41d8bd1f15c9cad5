extension TOMLScanner {
    /// Rejects the document at the first byte that is not well-formed UTF-8
    /// (including overlong forms, surrogates and scalars past U+10FFFF).
    mutating func validateUTF8() throws(TOMLError) {
        var index = 0
        while index < bytes.count {
            let length = scalarLength(at: index)
            guard length > 0 else {
                // Report the line and column of the bad byte by walking there.
                while position < index {
                    if !consumeNewline() { position += 1 }
                }
                throw error("invalid UTF-8 byte 0x\(hex(bytes[index]).dropFirst(2))")
            }
            index += length
        }
    }

    /// The length of the well-formed scalar starting at `index`, or 0 if it is malformed.
    private func scalarLength(at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        let length: Int
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; highest = 0x9F
        case 0xF0: length = 4; lowest = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; highest = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let second = bytes[index + 1]
        guard second >= lowest && second <= highest else { return 0 }
        for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
            return 0
        }
        return length
    }
}
