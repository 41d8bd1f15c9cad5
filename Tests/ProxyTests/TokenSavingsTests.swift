import JSON
import Testing

@testable import Proxy

@Suite("what plugins saved is shown and counted")
struct TokenSavingsTests {
    @Test("a result's plugin metadata reads as the line a person sees")
    func summaryLine() {
        let result: JSONValue = [
            "content": [],
            "_meta": ["dev.plugboard/plugins": [
                "curate": ["originalTokens": 10240, "keptTokens": 1930, "sectionsKept": 4, "sectionsTotal": 23],
                "enrich": ["bytes": 10],
            ]],
        ]
        #expect(TokenSavings.lines(for: result) == ["curate: 10,240 → 1,930 tokens (−81%), 4 of 23 sections kept"])
        #expect(TokenSavings.lines(for: ["content": []]).isEmpty)
    }

    @Test("counts add up per plugin and server, and metadata without tokens is left out")
    func counting() {
        var savings = TokenSavings()
        savings.record(plugin: "curate", server: "docs", metadata: ["originalTokens": 1000, "keptTokens": 200])
        savings.record(plugin: "curate", server: "docs", metadata: ["originalTokens": 500, "keptTokens": 100])
        savings.record(plugin: "curate", server: "web", metadata: ["originalTokens": 10, "keptTokens": 10])
        savings.record(plugin: "enrich", server: "docs", metadata: ["bytes": 5])
        let docs = savings.counts[.init(plugin: "curate", server: "docs")]
        #expect(docs == .init(calls: 2, tokensIn: 1500, tokensOut: 300))
        #expect(savings.counts.count == 2)
        #expect(TokenSavings.grouped(1_234_567) == "1,234,567" && TokenSavings.grouped(999) == "999")
    }
}
