import AssayCore
import Foundation

/// Errors raised while preparing or running an evaluation.
public enum EvaluatorError: AssayError, Equatable {
    /// No evaluator has this id.
    case unknownEvaluator(String, suggestion: String?, valid: [String])
    /// The evaluation needs a dataset of another kind.
    case wrongDatasetKind(evaluator: String, got: String, accepted: [String])
    /// The evaluation needs a dataset and has none.
    case missingDataset(evaluator: String)
    /// A dataset file is malformed.
    case malformedDataset(path: String, line: Int?, message: String, hint: String?)
    /// An option value could not be used.
    case invalidOption(name: String, message: String)
    /// The evaluation was stopped (Ctrl-C).
    case cancelled

    public var errorDescription: String? {
        switch self {
        case let .unknownEvaluator(id, _, _): return "unknown evaluator '\(id)'"
        case let .wrongDatasetKind(evaluator, got, accepted):
            return "evaluator '\(evaluator)' cannot use a '\(got)' dataset (accepts: \(accepted.joined(separator: ", ")))"
        case let .missingDataset(evaluator): return "evaluator '\(evaluator)' needs a dataset"
        case let .malformedDataset(path, line, message, _):
            return line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
        case let .invalidOption(name, message): return "option '\(name)': \(message)"
        case .cancelled: return "interrupted"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case let .unknownEvaluator(_, suggestion, valid):
            let list = "available: \(valid.joined(separator: ", ")) (see `assay list`)"
            return suggestion.map { "did you mean '\($0)'? \(list)" } ?? list
        case let .wrongDatasetKind(_, _, accepted): return "use a dataset of kind \(accepted.joined(separator: " or "))"
        case .missingDataset: return "add `dataset: <name>` naming an entry of `datasets:`"
        case let .malformedDataset(_, _, _, hint): return hint
        case .invalidOption, .cancelled: return nil
        }
    }
}
