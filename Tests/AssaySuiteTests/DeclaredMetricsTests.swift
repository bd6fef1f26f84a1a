import AssayCore
import AssayEvaluators
import AssaySuite
import Testing

/// The runner holds every evaluator to the metrics it declares.
struct DeclaredMetricsTests {
    @Test func undeclaredRepeatedOrReversedMetricsAreRefused() throws {
        func result(_ metrics: [MetricValue]) -> EvaluationResult { EvaluationResult(metrics: metrics, signature: "s") }
        try SuiteRunner.checkDeclared(result([MetricValue(name: "score", value: 30, unit: "BLEU", higherIsBetter: true)]), of: BLEUEvaluator.self)
        #expect(throws: Diagnostic.self) {
            try SuiteRunner.checkDeclared(result([MetricValue(name: "bogus", value: 1, higherIsBetter: true)]), of: BLEUEvaluator.self)
        }
        #expect(throws: Diagnostic.self) {
            try SuiteRunner.checkDeclared(result([MetricValue(name: "score", value: 1, higherIsBetter: false)]), of: BLEUEvaluator.self)
        }
        let twice = MetricValue(name: "score", value: 1, higherIsBetter: true)
        #expect(throws: Diagnostic.self) { try SuiteRunner.checkDeclared(result([twice, twice]), of: BLEUEvaluator.self) }
        // paired-delta's direction is its `higher_is_better` option (latencies: lower is better).
        try SuiteRunner.checkDeclared(result([MetricValue(name: "delta", value: -3, higherIsBetter: false),
                                              MetricValue(name: "candidate_mean", value: 1, higherIsBetter: false)]), of: PairedDeltaEvaluator.self)
    }
}

/// A gate on a metric whose direction is an option takes the evaluation's option.
struct OptionDirectionGateTests {
    @Test func pairedDeltaGatesFollowHigherIsBetter() throws {
        let suite = try SuiteSandbox().load("""
            version: 1
            name: d
            datasets:
              mt: { kind: parallel, hypotheses: data/hyp.txt, references: [data/ref.txt] }
            evaluations:
              - { id: a, evaluator: chrf, dataset: mt }
              - { id: b, evaluator: chrf, dataset: mt }
              - { id: lower, evaluator: paired-delta, options: { reference: a.sentence_chrf, candidate: b.sentence_chrf, higher_is_better: false } }
              - { id: higher, evaluator: paired-delta, options: { reference: a.sentence_chrf, candidate: b.sentence_chrf } }
            gates:
              - { metric: lower.delta, max_regression: 1 }
              - { metric: higher.delta, max_regression: 1 }
            """)
        #expect(suite.gates.map(\.higherIsBetter) == [false, true])
    }
}
