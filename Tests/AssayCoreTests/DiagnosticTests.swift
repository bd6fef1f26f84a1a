import AssayCore
import Foundation
import Testing

/// The one error shape: message, location and hint kept apart.
struct DiagnosticTests {
    enum SampleError: AssayError {
        case unreadable(path: String, reason: String)
        case plain(String)

        var errorDescription: String? {
            switch self {
            case let .unreadable(path, reason): "\(path): \(reason)"
            case let .plain(text): text
            }
        }

        var recoverySuggestion: String? { "check the file" }
    }

    @Test func partsComeApart() {
        let located = SampleError.unreadable(path: "/tmp/x.gguf", reason: "cannot read").diagnostic
        #expect(located == Diagnostic("cannot read", location: "/tmp/x.gguf", hint: "check the file"))
        #expect(located.errorDescription == "/tmp/x.gguf: cannot read")
        #expect(SampleError.plain("no").diagnostic == Diagnostic("no", hint: "check the file"))
        struct Other: Error {}
        #expect(Other().diagnostic.location == nil && !Other().diagnostic.message.isEmpty)
    }

    @Test func encodesItsThreeParts() throws {
        let data = try JSONEncoder().encode(Diagnostic("bad", location: "a.yaml:3:5", hint: "fix it"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        #expect(object == ["message": "bad", "location": "a.yaml:3:5", "hint": "fix it"])
    }
}
