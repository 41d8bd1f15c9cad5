extension TOMLScanner {
    /// Parses an integer, float or date-time; the cursor is on its first byte.
    mutating func parseNumberOrDateTime() throws(TOMLError) -> TOMLValue {
        let start = location
        let token = scanBareToken()
        let text = String(decoding: token, as: UTF8.self)
        if looksLikeDate(token) {
            return try parseDateTime(token, text: text, at: start)
        }
        if token.count >= 3 && isDigit(token[0]) && isDigit(token[1]) && token[2] == UInt8(ascii: ":") {
            return .localTime(try parseTime(token[...], text: text, at: start))
        }
        return try parseNumber(token, text: text, at: start)
    }

    /// Takes the run of bytes that can belong to a number or date-time, including the
    /// space between a date and a time (`1979-05-27 07:32:00`).
    private mutating func scanBareToken() -> [UInt8] {
        let start = position
        while let byte = current, isBareTokenByte(byte) { advance() }
        if looksLikeDate(Array(bytes[start..<position])) && position - start == 10
            && current == UInt8(ascii: " "), let first = peek(1), isDigit(first),
            let second = peek(2), isDigit(second), peek(3) == UInt8(ascii: ":") {
            advance()
            while let byte = current, isBareTokenByte(byte) { advance() }
        }
        return Array(bytes[start..<position])
    }

    private func isBareTokenByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    private func looksLikeDate(_ token: [UInt8]) -> Bool {
        token.count >= 5 && token[0..<4].allSatisfy(isDigit) && token[4] == UInt8(ascii: "-")
    }

    private func parseNumber(_ token: [UInt8], text: String, at start: TOMLLocation) throws(TOMLError) -> TOMLValue {
        guard !token.isEmpty else { throw error("expected a value, found \(describeCurrent())", at: start) }
        var body = token[...]
        var negative = false
        let hasSign = body.first == UInt8(ascii: "+") || body.first == UInt8(ascii: "-")
        if hasSign {
            negative = body.first == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        if body.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if body.elementsEqual("nan".utf8) { return .float(.nan) }

        if body.count > 2 && body.first == UInt8(ascii: "0"), let radix = radix(of: body[body.startIndex + 1]) {
            if hasSign { throw error("a sign is not allowed on a \(radixName(radix)) integer: `\(text)`", at: start) }
            guard let digits = digitsSeparatedByUnderscores(body.dropFirst(2), radix: radix) else {
                throw error("invalid \(radixName(radix)) integer `\(text)`", at: start)
            }
            guard let value = Int64(String(decoding: digits, as: UTF8.self), radix: radix) else {
                throw error("integer `\(text)` does not fit in 64 bits", at: start)
            }
            return .integer(value)
        }

        if body.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return .float(try parseFloat(body, negative: negative, text: text, at: start))
        }

        guard let digits = digitsSeparatedByUnderscores(body, radix: 10) else {
            throw error("invalid value `\(text)`; expected a number, string, boolean, date-time, array or inline table", at: start)
        }
        if digits.count > 1 && digits[0] == UInt8(ascii: "0") {
            throw error("leading zeros are not allowed in the integer `\(text)`", at: start)
        }
        guard let value = Int64((negative ? "-" : "") + String(decoding: digits, as: UTF8.self)) else {
            throw error("integer `\(text)` does not fit in 64 bits", at: start)
        }
        return .integer(value)
    }

    private func parseFloat(_ body: ArraySlice<UInt8>, negative: Bool, text: String, at start: TOMLLocation) throws(TOMLError) -> Double {
        let invalid = error("invalid float `\(text)`; write digits on both sides of `.`, e.g. `3.0` or `1e6`", at: start)
        var mantissa = body
        var exponent: ArraySlice<UInt8>? = nil
        if let e = body.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = body[..<e]
            exponent = body[(e + 1)...]
        }
        var integerPart = mantissa
        var fractionPart: ArraySlice<UInt8>? = nil
        if let dot = mantissa.firstIndex(of: UInt8(ascii: ".")) {
            integerPart = mantissa[..<dot]
            fractionPart = mantissa[(dot + 1)...]
        }
        guard let integerDigits = digitsSeparatedByUnderscores(integerPart, radix: 10) else { throw invalid }
        if integerDigits.count > 1 && integerDigits[0] == UInt8(ascii: "0") {
            throw error("leading zeros are not allowed in the float `\(text)`", at: start)
        }
        var cleaned = (negative ? "-" : "") + String(decoding: integerDigits, as: UTF8.self)
        if let fractionPart {
            guard let digits = digitsSeparatedByUnderscores(fractionPart, radix: 10) else { throw invalid }
            cleaned += "." + String(decoding: digits, as: UTF8.self)
        }
        if var exponent {
            var sign = ""
            if exponent.first == UInt8(ascii: "+") || exponent.first == UInt8(ascii: "-") {
                sign = exponent.first == UInt8(ascii: "-") ? "-" : ""
                exponent = exponent.dropFirst()
            }
            guard let digits = digitsSeparatedByUnderscores(exponent, radix: 10) else { throw invalid }
            cleaned += "e" + sign + String(decoding: digits, as: UTF8.self)
        }
        guard let value = Double(cleaned) else { throw invalid }
        return value
    }

    /// The digits of `text` with underscores removed, or nil when it is empty, has a
    /// non-digit, or has an underscore that is not between two digits.
    private func digitsSeparatedByUnderscores(_ text: ArraySlice<UInt8>, radix: Int) -> [UInt8]? {
        var digits: [UInt8] = []
        var previousWasDigit = false
        for byte in text {
            if byte == UInt8(ascii: "_") {
                guard previousWasDigit else { return nil }
                previousWasDigit = false
            } else {
                guard let value = hexDigitValue(byte), Int(value) < radix else { return nil }
                digits.append(byte)
                previousWasDigit = true
            }
        }
        return previousWasDigit ? digits : nil
    }

    private func radix(of marker: UInt8) -> Int? {
        switch marker {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    private func radixName(_ radix: Int) -> String {
        switch radix {
        case 16: "hexadecimal"
        case 8: "octal"
        default: "binary"
        }
    }
}

func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
}
