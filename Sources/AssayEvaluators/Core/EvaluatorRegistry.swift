import AssayCore
import AssayMetrics

/// The evaluators known by id.
public enum EvaluatorRegistry {
    /// Every registered evaluator type by id.
    public static let all: [String: any Evaluator.Type] = {
        var table: [String: any Evaluator.Type] = [:]
        for type in builtins {
            precondition(table[type.id] == nil, "evaluator id '\(type.id)' registered twice")
            table[type.id] = type
        }
        return table
    }()

    /// Former ids still accepted, with the id that replaced them; suites using one get a warning.
    public static let aliases: [String: String] = [
        // `agreement` named both this evaluator and the inter-rater command (`assay agreement`).
        "agreement": HumanAgreementEvaluator.id,
    ]

    /// Registered ids, sorted.
    public static var ids: [String] { all.keys.sorted() }

    /// The evaluator type for `id`.
    /// - Throws: ``EvaluatorError/unknownEvaluator(_:suggestion:valid:)`` with "did you mean".
    public static func type(for id: String) throws -> any Evaluator.Type {
        if let type = all[id] ?? aliases[id].flatMap({ all[$0] }) { return type }
        throw EvaluatorError.unknownEvaluator(id, suggestion: Suggestions.closest(to: id, in: ids), valid: ids)
    }
}
