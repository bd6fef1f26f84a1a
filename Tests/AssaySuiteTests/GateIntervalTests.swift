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
}
