import TOML
import Testing

/// Parses `text` as `test.toml`, failing the test with the parser's message if it is rejected.
func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> TOMLTable {
    do {
        return try TOMLParser.parse(text, file: "test.toml")
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The error `text` is rejected with, or nil (recording an issue) when it parses.
func rejection(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    rejection(bytes: Array(text.utf8), sourceLocation: sourceLocation)
}

func rejection(bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> TOMLError? {
    do {
        let table = try TOMLParser.parse(bytes: bytes, file: "test.toml")
        Issue.record("expected an error, parsed \(table.keys)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
