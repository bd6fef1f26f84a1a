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
