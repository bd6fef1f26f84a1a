import AssayCore
import Foundation

/// Problems with ratings files, scales and sets.
public enum RatingsError: AssayError, Equatable {
    /// The scale declaration is unusable.
    case invalidScale(String)
    /// The file has problems; nothing was imported. Up to 20 are listed, with line numbers.
    case malformed(path: String, problems: [String], total: Int)
    /// The file cannot be read.
    case unreadable(path: String, reason: String)
    /// The set exists with other content and neither --append nor --replace was given.
    case setExists(name: String)
    /// An --append would change a rating already in the set, or use another scale.
    case conflict(name: String, message: String)
    /// No set with this name.
    case unknownSet(name: String, known: [String])
    /// Krippendorff's interval or ratio level asked of labels that are not numbers.
    case levelNeedsNumbers(level: String, labels: [String])
    /// Krippendorff's ratio level asked of negative numbers (a ratio scale starts at zero).
    case ratioNeedsNonNegative(labels: [String])

    public var errorDescription: String? {
        switch self {
        case let .invalidScale(message): return message
        case let .malformed(path, problems, total):
            let more = total > problems.count ? "\n  … and \(total - problems.count) more" : ""
            return "\(path): \(total) problem(s); nothing was imported:\n  " + problems.joined(separator: "\n  ") + more
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .setExists(name): return "ratings set '\(name)' already exists with different content"
        case let .conflict(name, message): return "ratings set '\(name)': \(message)"
        case let .unknownSet(name, _): return "no ratings set '\(name)'"
        case let .levelNeedsNumbers(level, labels):
            let shown = labels.prefix(5).map { "'\($0.prefix(40))'" }.joined(separator: ", ") + (labels.count > 5 ? ", …" : "")
            return "Krippendorff's alpha at the \(level) level measures distances between numbers, and the labels \(shown) are not numbers"
        case let .ratioNeedsNonNegative(labels):
            let shown = labels.prefix(5).map { "'\($0.prefix(40))'" }.joined(separator: ", ") + (labels.count > 5 ? ", …" : "")
            return "Krippendorff's alpha at the ratio level measures (a − b)/(a + b) on a scale that starts at 0, and the labels \(shown) are negative"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .invalidScale: return nil
        case .malformed: return "fix the listed lines (or map other columns with --item, --rater, --label) and import again"
        case .unreadable: return "check the path"
        case .setExists: return "pass --append to add these ratings or --replace to replace the set"
        case .conflict: return "use --replace to replace the set, or a new --set name"
        case .levelNeedsNumbers:
            return "import numeric scores with --numeric (or --bins to group them), or use --level ordinal or nominal for ordered labels (in a suite: the dataset's numeric: true or bins:, the evaluation's level:)"
        case .ratioNeedsNonNegative:
            return "use --level interval for scores that can be negative (in a suite: the evaluation's level: interval)"
        case let .unknownSet(_, known):
            return known.isEmpty ? "import one with `assay ratings import FILE --set NAME`" : "sets: \(known.joined(separator: ", "))"
        }
    }
}
