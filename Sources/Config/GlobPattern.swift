/// A shell-style glob for tool, prompt and resource names.
///
/// `*` matches any run of characters (including none), `?` exactly one,
/// `[abc]` one of the listed characters, `[a-z]` one in the range and
/// `[!a]` one that is not listed. A `]` right after `[` or `[!` is a member.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public var pattern: String
        public var description: String { "glob \"\(pattern)\" has a `[` without a closing `]`" }
    }

    enum Token: Sendable, Hashable {
        case literal(Character)
        case anyOne
        case anyRun
        case set(members: [ClosedRange<Character>], negated: Bool)
    }

    public let pattern: String
    let tokens: [Token]

    public init(_ pattern: String) throws(SyntaxError) {
        self.pattern = pattern
        var tokens: [Token] = []
        let characters = Array(pattern)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            switch character {
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
            case "?":
                tokens.append(.anyOne)
            case "[":
                let negated = index < characters.count && characters[index] == "!"
                var cursor = index + (negated ? 1 : 0)
                var members: [ClosedRange<Character>] = []
                var first = true
                while cursor < characters.count && (characters[cursor] != "]" || first) {
                    let low = characters[cursor]
                    if cursor + 2 < characters.count && characters[cursor + 1] == "-" && characters[cursor + 2] != "]" {
                        let high = characters[cursor + 2]
                        members.append(low <= high ? low...high : high...low)
                        cursor += 3
                    } else {
                        members.append(low...low)
                        cursor += 1
                    }
                    first = false
                }
                guard cursor < characters.count else { throw SyntaxError(pattern: pattern) }
                tokens.append(.set(members: members, negated: negated))
                index = cursor + 1
            default:
                tokens.append(.literal(character))
            }
        }
        self.tokens = tokens
    }

    public var description: String { pattern }

    /// Whether the whole of `name` matches the pattern.
    public func matches(_ name: String) -> Bool {
        let text = Array(name)
        var t = 0, p = 0
        // Where to resume after the last `*`: the token after it and the text position it has swallowed up to.
        var starToken: Int? = nil
        var starText = 0
        while t < text.count {
            if p < tokens.count, tokens[p] != .anyRun, matchesOne(tokens[p], text[t]) {
                t += 1
                p += 1
            } else if p < tokens.count, tokens[p] == .anyRun {
                starToken = p + 1
                starText = t
                p += 1
            } else if let resume = starToken {
                starText += 1
                t = starText
                p = resume
            } else {
                return false
            }
        }
        while p < tokens.count && tokens[p] == .anyRun { p += 1 }
        return p == tokens.count
    }

    private func matchesOne(_ token: Token, _ character: Character) -> Bool {
        switch token {
        case .literal(let literal): literal == character
        case .anyOne: true
        case .anyRun: true
        case .set(let members, let negated): members.contains { $0.contains(character) } != negated
        }
    }
}
