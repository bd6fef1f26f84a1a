import Foundation

/// The one shape of every error Assay reports: what went wrong, where, and how to fix it.
///
/// Each module's error enum adopts ``AssayError`` and so has this shape; the CLI prints
/// `error: <where>: <what>` and `hint: <hint>`, and the JSON report and the store keep the three
/// parts apart (`message`, `location`, `hint`).
public struct Diagnostic: Error, LocalizedError, Sendable, Equatable, Codable {
    /// What went wrong, in one sentence without the location.
    public var message: String
    /// Where: a path with line and column, a YAML key path, a tensor or metadata key, a URL.
    public var location: String?
    /// How to fix it.
    public var hint: String?

    /// Creates a diagnostic.
    public init(_ message: String, location: String? = nil, hint: String? = nil) {
        self.message = message
        self.location = location
        self.hint = hint
    }

    /// `<location>: <message>`, or the message alone (also when the message already names the place).
    public var errorDescription: String? {
        guard let location, !message.contains(location) else { return message }
        return "\(location): \(message)"
    }

    public var recoverySuggestion: String? { hint }
}

/// An error with the three parts of a ``Diagnostic``.
///
/// Conformers implement `errorDescription` (and `recoverySuggestion` for the hint) as
/// `LocalizedError` does, and may override ``location`` to keep the place apart from the message.
public protocol AssayError: LocalizedError, Sendable {
    /// Where the error is (nil when the description says it or there is no place).
    var location: String? { get }
}

extension AssayError {
    /// By default the case's associated value labelled `path` or `url`: every module's errors name
    /// the file or endpoint they are about that way.
    public var location: String? {
        guard let payload = Mirror(reflecting: self).children.first?.value else { return nil }
        for child in Mirror(reflecting: payload).children where child.label == "path" || child.label == "url" {
            if let text = child.value as? String, !text.isEmpty { return text }
        }
        return nil
    }
}

extension Error {
    /// This error as a ``Diagnostic``: an ``AssayError``'s parts, or any error's description.
    /// Secrets in it are masked (``Redaction``): diagnostics end up in reports and the store.
    public var diagnostic: Diagnostic {
        if let diagnostic = self as? Diagnostic { return diagnostic }
        let description = Redaction.scrub((self as? LocalizedError)?.errorDescription ?? localizedDescription)
        let hint = ((self as? LocalizedError)?.recoverySuggestion).map(Redaction.scrub)
        if let located = self as? any AssayError, let location = (located.location).map(Redaction.scrub) {
            let prefix = location + ": "
            let message = description.hasPrefix(prefix) ? String(description.dropFirst(prefix.count)) : description
            return Diagnostic(message, location: location, hint: hint)
        }
        return Diagnostic(description, hint: hint)
    }
}
