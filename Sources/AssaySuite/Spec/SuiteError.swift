import AssayCore
import Foundation

/// One problem in a suite file, with where it is and how to fix it.
public struct SuiteDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The suite file.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// 1-based column, when known.
    public var column: Int?
    /// Key path inside the suite (`evaluations[1].options.tokenize`), empty for the whole file.
    public var keyPath: String
    /// What is wrong.
    public var message: String
    /// How to fix it, if there is a useful suggestion.
    public var hint: String?

    /// Creates a diagnostic.
    public init(file: String, line: Int?, column: Int?, keyPath: String, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
        self.hint = hint
    }

    /// `file:line:column: key.path: message`.
    public var location: String {
        var text = file
        if let line { text += ":\(line)" }
        if let column { text += ":\(column)" }
        return text
    }

    public var description: String {
        let head = "\(location): " + (keyPath.isEmpty ? "" : "\(keyPath): ") + message
        return hint.map { "\(head)\n  hint: \($0)" } ?? head
    }
}

/// A suite that cannot be loaded; lists every problem found.
public struct SuiteError: AssayError, Equatable {
    /// The problems, in file order.
    public var diagnostics: [SuiteDiagnostic]

    /// Creates the error.
    public init(_ diagnostics: [SuiteDiagnostic]) { self.diagnostics = diagnostics }

    public var errorDescription: String? {
        guard let first = diagnostics.first else { return "invalid suite" }
        let head = "\(first.location): " + (first.keyPath.isEmpty ? "" : "\(first.keyPath): ") + first.message
        let more = diagnostics.dropFirst().map { "\n" + $0.description }.joined()
        return head + more
    }

    public var recoverySuggestion: String? { diagnostics.first?.hint }
}
