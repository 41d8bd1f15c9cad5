import Foundation
import TOML
import Testing

// Skipped with a printed notice when ../shared/toml-test is absent; the project's own tests still run.
@Suite("toml-test 1.0.0 conformance", .enabled(if: TOMLTestSuite.isPresent))
struct TOMLConformanceTests {
    @Test("every valid toml-test case parses to its expected value", arguments: TOMLTestSuite.validCases)
    func validCase(_ name: String) throws {
        let input = try #require(TOMLTestSuite.bytes(of: name + ".toml"), "cannot read \(name).toml")
        let expectedData = try #require(TOMLTestSuite.bytes(of: name + ".json"), "cannot read \(name).json")
        let expected = try JSONSerialization.jsonObject(with: Data(expectedData), options: [.fragmentsAllowed])
        do {
            let table = try TOMLParser.parse(bytes: input, file: name + ".toml")
            #expect(TaggedValue.render(table) == TaggedValue.render(json: expected), "\(name).toml")
        } catch {
            Issue.record("\(name).toml was rejected: \(error)")
        }
    }

    @Test("every invalid toml-test case is rejected", arguments: TOMLTestSuite.invalidCases)
    func invalidCase(_ name: String) throws {
        let input = try #require(TOMLTestSuite.bytes(of: name), "cannot read \(name)")
        do {
            let table = try TOMLParser.parse(bytes: input, file: name)
            Issue.record("\(name) was accepted but is invalid TOML; parsed as \(TaggedValue.render(table))")
        } catch {
            // Rejected, as it should be.
        }
    }
}
