import AssayCore
import AssayMetrics
import AssayModels
import Foundation

/// How a text file is cut into documents for `mode: rolling`.
public enum DocumentSplit: Sendable, Equatable, CustomStringConvertible {
    /// The whole file is one document (one trailing newline dropped).
    case file
    /// Paragraphs separated by blank (empty or whitespace-only) lines; a paragraph's lines are
    /// joined with "\n".
    case paragraphs
    /// Every non-blank line is a document.
    case lines
    /// JSON Lines: each non-blank line is an object whose string `field` is a document.
    case jsonl(field: String)

    /// Parses `file`, `paragraphs`, `lines` or `jsonl` (with `field`, default `text`).
    public init?(_ name: String, field: String = "text") {
        switch name {
        case "file": self = .file
        case "paragraphs": self = .paragraphs
        case "lines": self = .lines
        case "jsonl": self = .jsonl(field: field)
        default: return nil
        }
    }

    public static let names = ["file", "paragraphs", "lines", "jsonl"]

    public var description: String {
        switch self {
        case .file: "file"
        case .paragraphs: "paragraphs"
        case .lines: "lines"
        case let .jsonl(field): "jsonl:\(field)"
        }
    }

    /// The documents of `text` (the contents of `path`, for error messages).
    /// - Throws: ``ProcedureError/emptyDocument(path:line:)`` for an empty document or a text with none,
    ///   ``ProcedureError/malformedDocument(path:line:message:)`` for a bad JSON line.
    public func documents(of text: String, path: String) throws -> [String] {
        func isBlank(_ line: Substring) -> Bool { line.unicodeScalars.allSatisfy { PythonText.isSpace($0) } }
        // Split on U+000A itself: Swift's Character-based split would keep "\r\n" together.
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Substring(String(String.UnicodeScalarView($0))) }
        var documents: [String] = []
        switch self {
        case .file:
            let whole = PerplexityRunner.droppingOneNewline(text)
            guard !whole.isEmpty else { throw ProcedureError.emptyDocument(path: path, line: nil) }
            documents = [whole]
        case .lines:
            documents = lines.filter { !isBlank($0) }.map(String.init)
        case .paragraphs:
            var current: [Substring] = []
            for line in lines {
                if isBlank(line) {
                    if !current.isEmpty { documents.append(current.joined(separator: "\n")) }
                    current = []
                } else {
                    current.append(line)
                }
            }
            if !current.isEmpty { documents.append(current.joined(separator: "\n")) }
        case let .jsonl(field):
            for (index, line) in lines.enumerated() where !isBlank(line) {
                let object: [String: Any]
                do { object = try JSONLine.object(line) } catch {
                    throw ProcedureError.malformedDocument(path: path, line: index + 1, message: error.message)
                }
                guard let value = object[field] else {
                    throw ProcedureError.malformedDocument(path: path, line: index + 1, message: "no field '\(field)'")
                }
                guard let string = value as? String else {
                    throw ProcedureError.malformedDocument(path: path, line: index + 1, message: "field '\(field)' is not a string")
                }
                guard !string.isEmpty else { throw ProcedureError.emptyDocument(path: path, line: index + 1) }
                documents.append(string)
            }
        }
        guard !documents.isEmpty else { throw ProcedureError.emptyDocument(path: path, line: nil) }
        return documents
    }
}
