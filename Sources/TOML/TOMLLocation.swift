/// A position in a TOML document: 1-based line and column (counted in Unicode scalars).
public struct TOMLLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file name given to the parser, as written (used only in messages).
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the form editors and terminals recognise as a jump target.
    public var description: String { "\(file):\(line):\(column)" }
}
