/// One `name: value` line of a header or trailer section, checked against RFC 9112 §5:
/// the name a token with the colon right after it, no obs-fold, no control characters in
/// the value (tab and obs-text allowed), optional whitespace around the value trimmed.
struct FieldLine {
    let name: Range<Int>
    let value: Range<Int>
    let valueIsASCII: Bool

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) throws(HTTPParseError) {
        guard !line.isEmpty, !ASCII.isWhitespace(bytes[line.lowerBound]) else {
            throw .badRequest("a header line starts with whitespace (obs-fold line folding is not accepted)")
        }
        var colon = line.lowerBound
        while colon < line.upperBound && ASCII.isTokenCharacter(bytes[colon]) { colon += 1 }
        guard colon < line.upperBound else { throw .badRequest("header line without colon") }
        guard bytes[colon] == ASCII.colon else {
            let name = Self.printableName(bytes, line.lowerBound..<colon)
            if ASCII.isWhitespace(bytes[colon]) {
                throw .badRequest("whitespace between the header name \(name) and its colon")
            }
            throw .badRequest("invalid character in a header name after \(name)")
        }
        guard colon > line.lowerBound else { throw .badRequest("empty header name") }
        name = line.lowerBound..<colon
        value = ASCII.trimmingWhitespace(bytes, (colon + 1)..<line.upperBound)
        var isASCII = true
        for index in value {
            let byte = bytes[index]
            guard ASCII.isFieldValueByte(byte) else {
                throw .badRequest("control character in the value of header \(Self.printableName(bytes, name))")
            }
            if byte >= 0x80 { isASCII = false }
        }
        valueIsASCII = isASCII
    }

    func nameText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[name]), as: UTF8.self)
    }

    func valueText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        ASCII.decodeFieldText(bytes, value, isASCII: valueIsASCII)
    }

    func nameIs(_ lowercaseName: StaticString, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        ASCII.equalsIgnoringCase(bytes, name, lowercaseName)
    }

    /// A header name for an error message: token characters only, so safe to print; shortened.
    static func printableName(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let shown = range.lowerBound..<min(range.upperBound, range.lowerBound + 64)
        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[shown]), as: UTF8.self)
        return shown.count < range.count ? "\"\(name)…\"" : "\"\(name)\""
    }
}
