import Config
import Testing

@testable import Proxy

@Suite("aggregated names are reversible")
struct CatalogTests {
    @Test("a prefixed tool name routes back to its server and original name")
    func prefixRoundTrip() {
        var catalog = Catalog(separator: "__", serverNames: ["docs", "git"])
        let (exposed, collisions) = catalog.register(.tool, server: "docs", originalNames: ["search", "get_page"])
        #expect(exposed == ["docs__search", "docs__get_page"])
        #expect(collisions.isEmpty)
        #expect(catalog.route(.tool, exposedName: "docs__get_page") == NameRoute(server: "docs", originalName: "get_page"))
    }

    @Test("a name never listed still routes by its first separator")
    func fallbackSplit() {
        let catalog = Catalog(separator: "__", serverNames: ["docs"])
        #expect(catalog.route(.tool, exposedName: "docs__a__b") == NameRoute(server: "docs", originalName: "a__b"))
        #expect(catalog.route(.tool, exposedName: "nobody__a") == nil)
        #expect(catalog.route(.tool, exposedName: "docs__") == nil)
    }

    @Test("names with characters outside [A-Za-z0-9_.-] or over 128 characters are made valid and stay routable")
    func sanitizing() {
        var catalog = Catalog(separator: "__", serverNames: ["s"])
        let long = String(repeating: "x", count: 200)
        let (exposed, _) = catalog.register(.tool, server: "s", originalNames: ["has space/slash", long])
        #expect(exposed.allSatisfy { Catalog.isValidName($0) })
        #expect(exposed[0] == "s__has_space_slash")
        #expect(exposed[1].utf8.count == 128)
        #expect(catalog.route(.tool, exposedName: exposed[1]) == NameRoute(server: "s", originalName: long))
    }

    @Test("two originals that sanitize to the same name are told apart")
    func collisions() {
        var catalog = Catalog(separator: "__", serverNames: ["s"])
        let (exposed, collisions) = catalog.register(.tool, server: "s", originalNames: ["a b", "a/b"])
        #expect(exposed[0] != exposed[1])
        #expect(collisions.count == 1)
        #expect(catalog.route(.tool, exposedName: exposed[0])?.originalName == "a b")
        #expect(catalog.route(.tool, exposedName: exposed[1])?.originalName == "a/b")
    }

    @Test("re-registering a server replaces its old names only")
    func reRegistering() {
        var catalog = Catalog(separator: "-", serverNames: ["a", "b"])
        _ = catalog.register(.prompt, server: "a", originalNames: ["one"])
        _ = catalog.register(.prompt, server: "b", originalNames: ["two"])
        _ = catalog.register(.prompt, server: "a", originalNames: ["three"])
        #expect(catalog.route(.prompt, exposedName: "b-two")?.server == "b")
        #expect(catalog.route(.prompt, exposedName: "a-three")?.originalName == "three")
    }

    @Test("resource URIs route to the server that listed them, then to a matching template")
    func resourceOwners() {
        var catalog = Catalog(separator: "__", serverNames: ["a", "b"])
        #expect(catalog.registerResources(server: "a", uris: ["file:///readme"]).isEmpty)
        #expect(catalog.registerResources(server: "b", uris: ["file:///readme", "db://x"]) == ["file:///readme"])
        catalog.registerResourceTemplates(server: "b", templates: ["notes://{id}/text"])
        #expect(catalog.owner(ofResource: "file:///readme") == "a")
        #expect(catalog.owner(ofResource: "db://x") == "b")
        #expect(catalog.owner(ofResource: "notes://42/text") == "b")
        #expect(catalog.owner(ofResource: "notes://42/html") == nil)
    }
}

@Suite("URI templates match the URIs they could produce")
struct URITemplateTests {
    @Test("literals in order, expressions match any run", arguments: [
        ("demo://notes/{id}", "demo://notes/7", true),
        ("demo://notes/{id}", "demo://other/7", false),
        ("file:///{+path}", "file:///a/b/c.txt", true),
        ("repo://{owner}/{name}/issues", "repo://me/plugboard/issues", true),
        ("repo://{owner}/{name}/issues", "repo://me/plugboard/pulls", false),
        ("plain://fixed", "plain://fixed", true),
        ("demo://notes/{id}", "demo://notes/", false),
    ])
    func matching(template: String, uri: String, expected: Bool) {
        #expect(URITemplate(template).matches(uri) == expected)
    }
}

@Suite("protocol version negotiation")
struct ProtocolVersionTests {
    @Test("initialize keeps a supported legacy version; anything else, a modern one included, gets the latest legacy one")
    func negotiation() {
        for version in ProtocolVersion.legacy {
            #expect(ProtocolVersion.negotiate(requested: version) == version)
        }
        #expect(ProtocolVersion.negotiate(requested: "2026-07-28") == "2025-11-25")
        #expect(ProtocolVersion.negotiate(requested: "2023-01-01") == "2025-11-25")
        #expect(ProtocolVersion.negotiate(requested: nil) == "2025-11-25")
    }

    @Test("the versions a server may be pinned to are exactly the ones plugboard speaks")
    func pinnable() {
        #expect(ProtocolPreference.knownVersions == ProtocolVersion.supported)
    }
}
