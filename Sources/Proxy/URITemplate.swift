/// Just enough of RFC 6570 to tell whether a concrete URI could come from a template:
/// literal parts must appear in order, each `{expression}` matches any run of characters.
struct URITemplate {
    let text: String
    private let literals: [Substring]

    init(_ text: String) {
        self.text = text
        var parts: [Substring] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            parts.append(rest[..<open])
            guard let close = rest[open...].firstIndex(of: "}") else {
                rest = rest[rest.endIndex...]
                break
            }
            rest = rest[rest.index(after: close)...]
        }
        parts.append(rest)
        literals = parts
    }

    func matches(_ uri: String) -> Bool {
        guard literals.count > 1 else { return uri == text }
        var rest = uri[...]
        guard rest.hasPrefix(literals[0]) else { return false }
        rest = rest.dropFirst(literals[0].count)
        for literal in literals.dropFirst().dropLast() where !literal.isEmpty {
            guard let found = rest.firstRange(of: literal) else { return false }
            rest = rest[found.upperBound...]
        }
        let last = literals[literals.count - 1]
        return rest.hasSuffix(last) && rest.count > last.count
    }
}
