extension NameFilter {
    /// Whether a name is visible: it matches some `allow` glob (or `allow` is empty) and no `deny` glob.
    public func allows(_ name: String) -> Bool {
        let allowed = allow.isEmpty || allow.contains { Self.glob($0).matches(name) }
        return allowed && !deny.contains { Self.glob($0).matches(name) }
    }

    private static func glob(_ pattern: String) -> GlobPattern {
        // The loader has validated every glob; a hand-built filter with a broken one matches it literally.
        (try? GlobPattern(pattern)) ?? GlobPattern(literal: pattern)
    }
}

extension GlobPattern {
    /// A pattern that matches exactly `text`, treating every character literally.
    init(literal text: String) {
        self.pattern = text
        self.tokens = text.map { .literal($0) }
    }
}
