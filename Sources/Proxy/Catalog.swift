/// The reversible naming of an aggregated endpoint: tool and prompt names are prefixed with their
/// server's name, resource URIs keep their value and remember their owner.
///
/// Names are looked up in what the last listings registered; a name never listed falls back to
/// splitting at the first separator, which is unambiguous because server names cannot contain it.
struct Catalog {
    enum Kind: String { case tool, prompt }

    let separator: String
    let serverNames: Set<String>
    private var routes: [Kind: [String: NameRoute]] = [.tool: [:], .prompt: [:]]
    private var resourceOwners: [String: String] = [:]
    private var resourceTemplates: [(server: String, template: URITemplate)] = []

    /// MCP 2025-11-25 asks tool names to be 1–128 characters of `[A-Za-z0-9_.-]`.
    static let maxNameLength = 128

    init(separator: String, serverNames: Set<String>) {
        self.separator = separator
        self.serverNames = serverNames
    }

    /// Replaces what `server` offers of `kind`, returning each original name's exposed name and
    /// the collisions that had to be disambiguated.
    mutating func register(
        _ kind: Kind, server: String, originalNames: [String]
    ) -> (exposed: [String], collisions: [String]) {
        var table = routes[kind]!.filter { $0.value.server != server }
        var exposedNames: [String] = []
        var collisions: [String] = []
        for original in originalNames {
            var exposed = Self.sanitized(server + separator + original)
            if let existing = table[exposed], existing != NameRoute(server: server, originalName: original) {
                collisions.append(exposed)
                exposed = Self.withHashSuffix(exposed, seed: server + "\u{0}" + original)
            }
            table[exposed] = NameRoute(server: server, originalName: original)
            exposedNames.append(exposed)
        }
        routes[kind] = table
        return (exposedNames, collisions)
    }

    func route(_ kind: Kind, exposedName: String) -> NameRoute? {
        if let known = routes[kind]![exposedName] { return known }
        guard let range = exposedName.firstRange(of: separator) else { return nil }
        let server = String(exposedName[..<range.lowerBound])
        let original = String(exposedName[range.upperBound...])
        guard serverNames.contains(server), !original.isEmpty else { return nil }
        return NameRoute(server: server, originalName: original)
    }

    // MARK: Resources

    /// Records the URIs `server` listed; returns URIs another server already owns (first wins).
    mutating func registerResources(server: String, uris: [String]) -> [String] {
        resourceOwners = resourceOwners.filter { $0.value != server }
        var collisions: [String] = []
        for uri in uris {
            if let owner = resourceOwners[uri], owner != server {
                collisions.append(uri)
                continue
            }
            resourceOwners[uri] = server
        }
        return collisions
    }

    mutating func registerResourceTemplates(server: String, templates: [String]) {
        resourceTemplates.removeAll { $0.server == server }
        resourceTemplates += templates.map { (server, URITemplate($0)) }
    }

    func owner(ofResource uri: String) -> String? {
        if let owner = resourceOwners[uri] { return owner }
        return resourceTemplates.first { $0.template.matches(uri) }?.server
    }

    // MARK: Name hygiene

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxNameLength && name.utf8.allSatisfy(isNameByte)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    /// Replaces characters outside `[A-Za-z0-9_.-]` and shortens over-long names; a hash of the
    /// full name keeps shortened names distinct. The route table makes the result reversible.
    static func sanitized(_ name: String) -> String {
        if isValidName(name) { return name }
        let bytes = name.utf8.map { isNameByte($0) ? $0 : UInt8(ascii: "_") }
        let cleaned = String(decoding: bytes, as: UTF8.self)
        if cleaned.utf8.count <= maxNameLength && !cleaned.isEmpty { return cleaned }
        return withHashSuffix(cleaned, seed: name)
    }

    private static func withHashSuffix(_ name: String, seed: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in seed.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let suffix = "-" + String(hash, radix: 16).leftPadded(to: 8)
        let room = maxNameLength - suffix.utf8.count
        return String(decoding: name.utf8.prefix(room), as: UTF8.self) + suffix
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
