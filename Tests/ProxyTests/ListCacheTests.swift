import JSON
import Testing

@testable import Proxy

@Suite("plugboard reuses a modern server's public list pages for their ttlMs")
struct ListCacheTests {
    let key = ListCache.Key(server: "docs", method: "tools/list", cursor: [])
    let ms: UInt64 = 1_000_000

    @Test("a public page is served until its TTL runs out, with the freshness it has left")
    func publicPage() {
        var cache = ListCache()
        cache.store(["tools": [], "ttlMs": 60000, "cacheScope": "public"], for: key, now: 0)
        #expect(cache.lookup(key, now: 15_000 * ms)?["ttlMs"] == 45000)
        #expect(cache.lookup(key, now: 60_000 * ms) == nil)
        #expect(cache.hits == 1 && cache.misses == 1)
    }

    @Test("private pages and pages without a positive TTL are not kept")
    func notKept() {
        var cache = ListCache()
        cache.store(["tools": [], "ttlMs": 60000, "cacheScope": "private"], for: key, now: 0)
        cache.store(["tools": [], "ttlMs": 0, "cacheScope": "public"], for: ListCache.Key(server: "docs", method: "prompts/list", cursor: []), now: 0)
        cache.store(["tools": [], "cacheScope": "public"], for: ListCache.Key(server: "docs", method: "resources/list", cursor: []), now: 0)
        #expect(cache.count == 0)
    }

    @Test("a list-changed notification empties that server's entries of that list only")
    func invalidation() {
        var cache = ListCache()
        let prompts = ListCache.Key(server: "docs", method: "prompts/list", cursor: [])
        let other = ListCache.Key(server: "git", method: "tools/list", cursor: [])
        for k in [key, prompts, other] { cache.store(["ttlMs": 1000, "cacheScope": "public"], for: k, now: 0) }
        cache.invalidate(server: "docs", method: "tools/list")
        #expect(cache.lookup(key, now: 1) == nil)
        #expect(cache.lookup(prompts, now: 1) != nil && cache.lookup(other, now: 1) != nil)
    }

    @Test("merged hints take the shortest TTL and are public only if every part is")
    func combining() {
        let merged = CacheHint(ttlMs: 60000, isPublic: true).combined(with: CacheHint(ttlMs: 5000, isPublic: true))
        #expect(merged == CacheHint(ttlMs: 5000, isPublic: true))
        #expect(merged.combined(with: .none) == CacheHint(ttlMs: 0, isPublic: false))
        #expect(CacheHint(result: ["ttlMs": -5, "cacheScope": "public"]).ttlMs == 0)
    }
}
