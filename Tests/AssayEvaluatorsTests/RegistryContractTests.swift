import AssayEvaluators
import Foundation
import Testing

/// What every registered evaluator promises the suite loader, gates, `assay list` and the store.
struct RegistryContractTests {
    static let types = EvaluatorRegistry.ids.compactMap { EvaluatorRegistry.all[$0] }

    @Test func idsAreKebabCaseAndAliasesPointAtRegisteredEvaluators() {
        #expect(Self.types.count == EvaluatorRegistry.ids.count && Self.types.count >= 12)
        for type in Self.types {
            #expect(type.id.range(of: "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", options: .regularExpression) != nil, "\(type.id)")
        }
        for (alias, current) in EvaluatorRegistry.aliases {
            #expect(EvaluatorRegistry.all[alias] == nil && EvaluatorRegistry.all[current] != nil, "\(alias) → \(current)")
        }
    }

    @Test(arguments: EvaluatorRegistry.ids)
    func declarationsAreCompleteAndUnique(id: String) throws {
        let type = try EvaluatorRegistry.type(for: id)
        #expect(!type.summary.isEmpty)
        #expect(!type.metrics.isEmpty, "\(id) declares no metric")
        #expect(Set(type.metrics.map(\.name)).count == type.metrics.count, "\(id): a metric declared twice")
        #expect(Set(type.options.map(\.name)).count == type.options.count, "\(id): an option declared twice")
        for name in type.metrics.map(\.name) + type.options.map(\.name) {
            #expect(name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil, "\(id): '\(name)' is not snake_case")
        }
        for metric in type.metrics { #expect(!metric.summary.isEmpty, "\(id).\(metric.name) has no summary") }
    }

    /// The evaluators that need no model run here on the repository's fixtures with their
    /// defaults and produce exactly what they declare (the runner refuses anything else).
    @Test(arguments: ["bleu", "chrf"])
    func corpusEvaluatorsProduceExactlyTheirDeclaredMetrics(id: String) async throws {
        let type = try EvaluatorRegistry.type(for: id)
        let mt = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mt")
        let evaluator = try type.init(options: OptionValues(specs: type.options, given: [:]))
        let context = EvaluationContext(evaluationID: id, dataset: .parallel(hypotheses: mt.appendingPathComponent("system-a.txt"),
                                                                             references: [mt.appendingPathComponent("reference.txt")]))
        let result = try await evaluator.evaluate(in: context)
        #expect(result.metrics.map(\.name).sorted() == type.metrics.map(\.name).sorted())
        for metric in result.metrics {
            #expect(metric.higherIsBetter == type.metrics.first { $0.name == metric.name }?.higherIsBetter)
        }
    }
}
