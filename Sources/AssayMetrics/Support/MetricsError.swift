import AssayCore
import Foundation

/// Errors from metric computation and metric inputs.
public enum MetricsError: AssayError, Equatable {
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A text file has bytes that are not UTF-8 on the given 1-based line.
    case invalidUTF8(path: String, line: Int)
    /// Hypotheses and references differ in length.
    case lineCountMismatch(hypotheses: Int, references: Int, referencePath: String)
    /// An unknown name for a registered component (tokenizer, smoothing, …).
    case unknownName(kind: String, name: String, suggestion: String?, valid: [String])
    /// An option value outside its allowed range.
    case invalidOption(name: String, value: String, reason: String)
    /// There is nothing to score.
    case emptyInput(what: String)
    /// A malformed line in a data file (baseline CSV, …), 1-based.
    case malformedLine(path: String, line: Int, message: String, fix: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read file: \(reason)"
        case let .invalidUTF8(path, line):
            return "\(path):\(line): line is not valid UTF-8"
        case let .lineCountMismatch(hypotheses, references, path):
            return "\(path): has \(references) lines but the hypotheses have \(hypotheses)"
        case let .unknownName(kind, name, _, _):
            return "unknown \(kind) '\(name)'"
        case let .invalidOption(name, value, reason):
            return "invalid \(name) '\(value)': \(reason)"
        case let .emptyInput(what):
            return "no \(what) to score"
        case let .malformedLine(path, line, message, _):
            return "\(path):\(line): \(message)"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .unreadableFile:
            return "check that the path exists and is a readable file"
        case .invalidUTF8:
            return "re-encode the file as UTF-8 (for example with iconv -t UTF-8)"
        case .lineCountMismatch:
            return "each reference file needs exactly one line per hypothesis line"
        case let .unknownName(_, _, suggestion, valid):
            let list = "valid: \(valid.joined(separator: ", "))"
            return suggestion.map { "did you mean '\($0)'? \(list)" } ?? list
        case .invalidOption:
            return nil
        case .emptyInput:
            return "provide at least one segment"
        case let .malformedLine(_, _, _, fix):
            return fix
        }
    }
}
