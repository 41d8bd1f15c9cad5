/// Parses TOML 1.0.0 documents.
public enum TOMLParser {
    /// Parses a whole document into its root table.
    ///
    /// - Parameter file: the name used in locations and messages, e.g. `etc/plugboard.toml`.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses raw bytes, rejecting invalid UTF-8 with the location of the first bad byte.
    ///
    /// A leading byte order mark is skipped; CRLF line endings are accepted anywhere LF is.
    public static func parse(bytes: [UInt8], file: String) throws(TOMLError) -> TOMLTable {
        var scanner = TOMLScanner(bytes: bytes, file: file)
        try scanner.validateUTF8()
        scanner.skipByteOrderMark()
        var parser = DocumentParser(scanner: scanner)
        return try parser.parseDocument()
    }
}
