import Auth
import Testing

@Suite struct BearerChallengeTests {
    @Test func readsTheSpecsExample() {
        let challenge = BearerChallenge.parse([
            #"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", error_description="File write permission required""#
        ])
        #expect(challenge?.error == "insufficient_scope")
        #expect(challenge?.scopes == ["files:read", "files:write"])
        #expect(challenge?.resourceMetadata == "https://mcp.example.com/.well-known/oauth-protected-resource")
        #expect(challenge?.errorDescription == "File write permission required")
    }

    @Test func findsBearerAmongOtherChallenges() {
        let challenge = BearerChallenge.parse([#"Basic realm="x", Negotiate abc==, Bearer scope=notes:read, realm="mcp""#])
        #expect(challenge?.scopes == ["notes:read"])
        #expect(challenge?.error == nil)
    }

    @Test func aBareSchemeIsAChallengeWithoutParameters() {
        #expect(BearerChallenge.parse(["Bearer"]) == BearerChallenge())
        #expect(BearerChallenge.parse([#"Basic realm="only""#]) == nil)
    }

    @Test func quotedValuesKeepEscapedQuotesAndCommas() {
        let challenge = BearerChallenge.parse([#"Bearer error_description="a \"b\", c", error=invalid_token"#])
        #expect(challenge?.errorDescription == #"a "b", c"#)
        #expect(challenge?.error == "invalid_token")
    }
}
