import AssayEvaluators
@testable import AssaySuite
import Testing

/// Speed metrics are judged on their 95 % interval: noise alone does not fail a gate.
struct GateIntervalTests {
    func outcome(_ value: Double, low: Double, high: Double) -> [EvaluationOutcome] {
        [EvaluationOutcome(id: "tp", evaluator: "throughput", status: .ok, signature: "",
                           metrics: [MetricValue(name: "pp_tokens_per_second", value: value, ciLow: low, ciHigh: high, higherIsBetter: true)],
                           items: [], error: nil, options: [:], seconds: 0)]
    }

    @Test func minAndRegressionUseTheFavourableEnd() {
        let onInterval = GateSpec(metric: "tp.pp_tokens_per_second", min: 100, max: nil, maxRegression: 5, higherIsBetter: true, judgedOnInterval: true)
        let plain = GateSpec(metric: "tp.pp_tokens_per_second", min: 100, max: nil, maxRegression: 5, higherIsBetter: true)
        let baseline = Baseline(runID: "r0", values: ["tp.pp_tokens_per_second": 104])
        // Mean 98 below the minimum 100 and 6 below the baseline, but the interval reaches 101.
        let noisy = outcome(98, low: 95, high: 101)
        #expect(GateJudge.judge([onInterval], evaluations: noisy, baseline: baseline).map(\.status) == [.pass, .pass])
        #expect(GateJudge.judge([plain], evaluations: noisy, baseline: baseline).map(\.status) == [.fail, .fail])
        #expect(GateJudge.judge([onInterval], evaluations: noisy, baseline: baseline)[0].message.contains("judged on the 95 % interval [95, 101]"))
        // The whole interval below: a real regression fails.
        let slow = outcome(90, low: 88, high: 92)
        #expect(GateJudge.judge([onInterval], evaluations: slow, baseline: baseline).map(\.status) == [.fail, .fail])
    }

    /// `judge: interval` and `judge: value` override the metric's declaration; anything else is refused.
    @Test func judgeKeyOverridesTheDeclaration() throws {
        let sandbox = try SuiteSandbox()
        let suite = try sandbox.load(validSuite.replacingOccurrences(
            of: "  - { metric: bleu.score, min: 10 }",
            with: "  - { metric: bleu.score, min: 10, judge: interval }\n  - { metric: bleu.score, max: 90, judge: value }"))
        #expect(suite.gates.map(\.judgedOnInterval) == [true, false])
        let wrong = try sandbox.diagnostics(validSuite.replacingOccurrences(of: "min: 10 }", with: "min: 10, judge: ci }"))
        #expect(wrong.contains { $0.message.contains("judge must be 'interval' or 'value', found 'ci'") }, "\(wrong)")
    }

    /// A ratio of perplexities judged on its interval; a metric without one is judged on its value, and the message says so.
    @Test func maxOnTheIntervalAndAMetricWithoutOne() {
        let gate = GateSpec(metric: "drift.ppl_ratio", min: nil, max: 1.012, maxRegression: nil, higherIsBetter: false, judgedOnInterval: true)
        func drift(_ value: Double, _ low: Double?, _ high: Double?) -> [EvaluationOutcome] {
            [EvaluationOutcome(id: "drift", evaluator: "quant-drift", status: .ok, signature: "",
                               metrics: [MetricValue(name: "ppl_ratio", value: value, ciLow: low, ciHigh: high, higherIsBetter: false)],
                               items: [], error: nil, options: [:], seconds: 0)]
        }
        #expect(GateJudge.judge([gate], evaluations: drift(1.013, 1.010, 1.016), baseline: nil).map(\.status) == [.pass])
        #expect(GateJudge.judge([gate], evaluations: drift(1.016, 1.013, 1.019), baseline: nil).map(\.status) == [.fail])
        let bare = GateJudge.judge([gate], evaluations: drift(1.013, nil, nil), baseline: nil)
        #expect(bare.map(\.status) == [.fail] && bare[0].message.contains("no interval was computed: judged on the value"), "\(bare)")
    }
}
