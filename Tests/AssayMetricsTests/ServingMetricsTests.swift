import AssayMetrics
import Foundation
import Testing

/// vLLM benchmark_serving's `calculate_metrics` on a hand-made run; expected values from NumPy
/// (`np.mean`, `np.median`, `np.std`, `np.percentile`) on the same millisecond lists.
struct ServingMetricsTests {
    static let outcomes = [
        // 4 tokens: TPOT (0.5 − 0.1) / 3.
        ServingOutcome(success: true, ttftSeconds: 0.1, latencySeconds: 0.5, interTokenSeconds: [0.1, 0.1, 0.2], text: "", promptTokens: 10, completionTokens: 4, chunks: 4),
        // 1 token: no TPOT (0 for goodput).
        ServingOutcome(success: true, ttftSeconds: 0.2, latencySeconds: 0.2, interTokenSeconds: [], text: "", promptTokens: 5, completionTokens: 1, chunks: 1),
        ServingOutcome(error: "refused"),
        // 3 tokens, prompt length unknown.
        ServingOutcome(success: true, ttftSeconds: 0.05, latencySeconds: 0.65, interTokenSeconds: [0.3, 0.3], text: "", promptTokens: nil, completionTokens: 3, chunks: 3),
    ]

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 * max(1, abs(b)) } ?? false }

    @Test func matchesBenchmarkServingDefinitions() throws {
        let m = ServingMetrics(outcomes: Self.outcomes, outputTokens: [4, 1, 99, 3], durationSeconds: 2, percentiles: [50, 99],
                               objectives: try ServingObjectives(parsing: "ttft:150,tpot:200"))
        #expect(m.completed == 3 && m.failed == 1)
        #expect(m.totalInputTokens == 15 && m.totalOutputTokens == 8)
        #expect(m.outputTokens == [4, 1, 0, 3])  // a failed request counts 0 whatever was passed
        #expect(close(m.requestThroughput, 1.5) && close(m.outputThroughput, 4) && close(m.totalTokenThroughput, 11.5))
        // Only the first request meets both objectives (the second misses TTFT, the third TPOT).
        #expect(close(m.requestGoodput, 0.5))
        #expect(close(m.ttft?.mean, 116.66666666666667) && close(m.ttft?.median, 100) && close(m.ttft?.std, 62.36095644623236))
        #expect(close(m.ttft?.percentiles[1].1, 198))
        #expect(close(m.tpot?.mean, 216.66666666666669) && close(m.tpot?.std, 83.33333333333333) && close(m.tpot?.percentiles[1].1, 298.3333333333333))
        #expect(close(m.itl?.mean, 200) && close(m.itl?.std, 89.44271909999159) && close(m.itl?.percentiles[1].1, 300))
        #expect(close(m.e2el?.mean, 450) && close(m.e2el?.median, 500) && close(m.e2el?.std, 187.08286933869707) && close(m.e2el?.percentiles[1].1, 647))
        let fields = Dictionary(uniqueKeysWithValues: m.fields.map { ($0.0, $0.1) })
        #expect(close(fields["p99_ttft_ms"] ?? nil, 198) && close(fields["median_e2el_ms"] ?? nil, 500))
        #expect(fields["p50_itl_ms"] != nil && fields["request_goodput"] != nil)
    }

    @Test func noObjectivesNoGoodputAndEmptySamplesAreNull() {
        let m = ServingMetrics(outcomes: [Self.outcomes[1], Self.outcomes[2]], outputTokens: [1, 0], durationSeconds: 1, percentiles: [99])
        #expect(m.requestGoodput == nil)
        #expect(m.tpot == nil && m.itl == nil)  // one one-token request: no TPOT, no gaps
        let fields = Dictionary(uniqueKeysWithValues: m.fields.map { ($0.0, $0.1) })
        #expect(fields.keys.contains("p99_tpot_ms") && fields["p99_tpot_ms"]! == nil)
    }

    @Test func objectivesAreParsedStrictly() throws {
        let o = try ServingObjectives(parsing: "ttft:500 tpot:50,e2el:2000")
        #expect(o == ServingObjectives(ttftMilliseconds: 500, tpotMilliseconds: 50, e2elMilliseconds: 2000))
        #expect(throws: MetricsError.self) { try ServingObjectives(parsing: "ttfb:500") }
        #expect(throws: MetricsError.self) { try ServingObjectives(parsing: "ttft=500") }
        #expect(throws: MetricsError.self) { try ServingObjectives(parsing: "tpot:-1") }
    }

    @Test func percentileNamesAsBenchmarkServing() {
        #expect(ServingMetrics.percentileName(99) == "99")
        #expect(ServingMetrics.percentileName(99.9) == "99.9")
    }
}
