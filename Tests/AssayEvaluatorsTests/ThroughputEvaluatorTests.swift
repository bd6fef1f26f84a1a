import AssayEvaluators
import AssayMetrics
import AssayTestSupport
import Foundation
import Testing

/// The `throughput` evaluator on the tiny Llama fixture, and the chart it attaches.
struct ThroughputEvaluatorTests {
    @Test func metricsIntervalsAndChart() async throws {
        let options = OptionValues(specs: ThroughputEvaluator.options, given: ["prompt": .integer(32), "generate": .integer(8), "repetitions": .integer(3)])
        let evaluator = try ThroughputEvaluator(options: options)
        let model = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama.gguf")
        let result = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "tp", model: .file(model)))
        let pp = try #require(result.metric("pp_tokens_per_second")), tg = try #require(result.metric("tg_tokens_per_second"))
        for m in [pp, tg] {
            let value = try #require(m.value), low = try #require(m.ciLow), high = try #require(m.ciHigh)
            #expect(value > 0 && low <= value && value <= high && (m.stderr ?? -1) >= 0)
        }
        #expect(result.metric("ttft_ms")?.value != nil && result.metric("itl_ms_p99")?.value != nil)
        #expect(result.signature.hasPrefix("tests:pp32,tg8|threads:2|reps:3|warmup:1|seed:1|numerics:exact|blas:openblas|version:assay-"))
        let chart = try #require(result.artifacts.first)
        guard case let .bars(_, unit, bars) = chart.chart else { Issue.record("not a bar chart"); return }
        #expect(chart.name == "throughput.svg" && unit == "tokens/s" && bars.map(\.label) == ["pp32", "tg8"])
        #expect(bars[0].value == pp.value && bars[0].low == pp.ciLow && bars[1].high == tg.ciHigh)
        #expect(throws: EvaluatorError.self) {
            try ThroughputEvaluator(options: OptionValues(specs: ThroughputEvaluator.options, given: ["prompt": .integer(0), "generate": .integer(0)]))
        }
    }
}
