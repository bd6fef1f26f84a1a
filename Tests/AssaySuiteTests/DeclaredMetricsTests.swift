import AssayCore
import AssayEvaluators
import AssaySuite
import Foundation
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

/// NaN and infinity never pass: the runner nulls them with a note and fails the evaluation.
struct NonFiniteMetricTests {
    @Test func nonFiniteNumbersBecomeAnEvaluationError() throws {
        let metrics = [MetricValue(name: "score", value: .nan, unit: "BLEU", higherIsBetter: true),
                       MetricValue(name: "bp", value: 0.9, ciLow: 0.8, ciHigh: .infinity, higherIsBetter: true),
                       MetricValue(name: "ratio", value: 1, higherIsBetter: true)]
        let (cleaned, problem) = SuiteRunner.finite(metrics, of: BLEUEvaluator.self)
        let diagnostic = try #require(problem)
        #expect(diagnostic.message.contains("score (value nan)") && diagnostic.message.contains("bp (ci_high inf)"))
        #expect(cleaned[0].value == nil && cleaned[0].note == "not finite: value nan")
        #expect(cleaned[1].value == 0.9 && cleaned[1].ciHigh == nil && cleaned[1].ciLow == 0.8)
        #expect(cleaned[2] == metrics[2])
        // What reports and the store write now encodes (a NaN made JSONEncoder throw: no report).
        _ = try JSONEncoder().encode(cleaned)
        // The runner marks the evaluation `error` with this diagnostic, so the run exits 2 (never 0)
        // and a gate on the nulled metric has no value to pass on.
        #expect(SuiteRunner.finite([metrics[2]], of: BLEUEvaluator.self).1 == nil)
    }
}

/// Reports print significant digits, never a rounding that hides a value.
struct NumberFormatTests {
    @Test func significantDigitsNeverHideAValue() {
        // From suites/quant-drift.yaml's report: mean_kld 0.001149 ± 0.000016, cosine 0.9999956
        // printed as 0.0011 ± 0 and 1 with four fixed decimals.
        #expect(GateJudge.format(0.001149) == "0.001149")
        #expect(GateJudge.format(0.000016) == "0.000016")
        #expect(GateJudge.format(0.9999956) == "0.999996")
        #expect(GateJudge.format(24.5943) == "24.5943" && GateJudge.format(12345.6) == "12345.6" && GateJudge.format(1) == "1")
        #expect(GateJudge.format(-0.25) == "-0.25" && GateJudge.format(0) == "0" && GateJudge.format(.nan) == "nan")
        #expect(GateJudge.format(99.999991) == "99.99999" && GateJudge.format(2e-15) == "2e-15")
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
