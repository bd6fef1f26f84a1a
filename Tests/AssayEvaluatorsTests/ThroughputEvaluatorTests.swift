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
        #expect(result.signature.hasPrefix("tg8|pp32|threads:2|reps:3|warmup:1|seed:1|blas:openblas|version:assay-"))
        let chart = try #require(result.artifacts.first)
        #expect(chart.name == "throughput.svg" && chart.contents.hasPrefix("<svg") && chart.contents.components(separatedBy: "<rect").count == 3)
        #expect(throws: EvaluatorError.self) {
            try ThroughputEvaluator(options: OptionValues(specs: ThroughputEvaluator.options, given: ["prompt": .integer(0), "generate": .integer(0)]))
        }
    }

    @Test func chartScalesAndEscapes() {
        let svg = ThroughputChart.svg(title: "a < b & c", bars: [.init(label: "pp512", value: 410, low: 400, high: 420),
                                                                 .init(label: "tg64", value: 44, low: 43, high: 45)])
        #expect(svg.contains("a &lt; b &amp; c") && svg.contains(">500<"))  // axis up to 500
        #expect(svg.components(separatedBy: "<rect").count == 3)
    }
}
