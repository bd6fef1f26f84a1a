import AssayCore
import Foundation
import Testing

/// URL credentials, key-like query values, bearer tokens and registered secrets are masked.
struct RedactionTests {
    @Test func urlsLoseTheirCredentials() throws {
        let url = try #require(URL(string: "https://alice:s3cret-pass@api.example.com/v1?api_key=qk-123456&model=m&Access-Token=tok-7890"))
        let shown = Redaction.url(url)
        #expect(shown == "https://***@api.example.com/v1?api_key=***&model=m&Access-Token=***", "\(shown)")
        // Registered by url(): an echo of them anywhere is masked.
        #expect(Redaction.scrub("server said: bad password s3cret-pass for qk-123456") == "server said: bad password *** for ***")
        #expect(Redaction.url(try #require(URL(string: "http://127.0.0.1:8000/v1"))) == "http://127.0.0.1:8000/v1")
    }

    @Test func freeTextIsScrubbed() {
        Redaction.register("sk-registered-0001")
        let text = "GET http://bob:pw@host/v1/models?key=abcd&x=1 → 401 {\"error\": \"Bearer sk-registered-0001 rejected\"}; Authorization: Bearer tok.ABC-99"
        let scrubbed = Redaction.scrub(text)
        #expect(scrubbed == "GET http://***@host/v1/models?key=***&x=1 → 401 {\"error\": \"Bearer *** rejected\"}; Authorization: Bearer ***", "\(scrubbed)")
        // Ordinary text is left alone; secrets shorter than 4 characters are not registered.
        Redaction.register("abc")
        #expect(Redaction.scrub("a = b, abc & key words, https://example.com/path?page=2") == "a = b, abc & key words, https://example.com/path?page=2")
    }

    /// Texts a model wrote lose only long secrets (API keys): a URL's user name registered by
    /// `url()` ("alice-admin") is an ordinary word there, and masking it would change the numbers
    /// computed from the text; everything else stays, "bearer bonds" and `?code=` included.
    @Test func textsLoseOnlyLongSecrets() throws {
        _ = Redaction.url(try #require(URL(string: "http://alice-admin:pw-4567@host/v1")))
        Redaction.register("sk-long-registered-key-42")
        let text = "alice-admin sold bearer bonds?code=7 with sk-long-registered-key-42"
        #expect(Redaction.maskSecrets(text) == "alice-admin sold bearer bonds?code=7 with ***")
        #expect(Redaction.scrub(text).hasPrefix("*** sold"))
    }
}
