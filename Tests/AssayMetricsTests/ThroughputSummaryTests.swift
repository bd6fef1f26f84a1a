import AssayMetrics
import Testing

/// llama-bench's statistics over repetitions, latency percentiles and the A/B speed ratio.
struct ThroughputSummaryTests {
    @Test func llamaBenchMeansAndSampleStddev() {
        // 512 tokens in 1 s, 0.5 s and 2 s → 512, 1024, 256 tokens/s.
        let s = ThroughputSummary(tokens: 512, nanoseconds: [1_000_000_000, 500_000_000, 2_000_000_000], timeToFirstToken: [], interTokenGaps: [])
        #expect(s.samplesTokensPerSecond == [512, 1024, 256])
        #expect(abs(s.averageTokensPerSecond - 597.333_333_333) < 1e-6)
        // sample stddev of 512, 1024, 256: sqrt(((−85.33)² + 426.67² + (−341.33)²) / 2) = 391.04
        #expect(abs(s.stddevTokensPerSecond - 391.0464) < 1e-3)
        #expect(abs(s.averageNanoseconds - 1_166_666_666.67) < 1)
        #expect(s.timeToFirstTokenMilliseconds == nil && s.interTokenMilliseconds == nil)
        #expect(ThroughputSummary.meanAndSampleStddev([7]) == (7, 0))
    }

    @Test func latencyPercentilesFromTheHistogram() {
        // 100 gaps of 1…100 ms: p50 = 50 ms, p90 = 90 ms, p99 = 99 ms (HdrHistogram, 3 digits).
        let gaps = (1...100).map { UInt64($0) * 1_000_000 }
        let s = ThroughputSummary(tokens: 101, nanoseconds: [5_000_000_000], timeToFirstToken: [20_000_000, 40_000_000], interTokenGaps: gaps)
        let itl = s.interTokenMilliseconds!
        #expect(abs(itl.p50 - 50) < 0.1 && abs(itl.p90 - 90) < 0.1 && abs(itl.p99 - 99) < 0.1)
        #expect(s.timeToFirstTokenMilliseconds == 30)
    }

    @Test func speedRatioIntervals() {
        let a = [100.0, 104, 98, 101, 97], b = [50.0, 52, 49, 51, 48]
        let (ratio, low, high) = ThroughputSummary.speedRatio(a, b)
        #expect(abs(ratio - 2) < 0.02 && low > 1.9 && high < 2.1 && low <= ratio && ratio <= high)
        let same = ThroughputSummary.speedRatio(a, a.reversed())
        #expect(same.ratio == 1 && same.low < 1 && same.high > 1)
        #expect(ThroughputSummary.speedRatio(a, b, seed: 1) == ThroughputSummary.speedRatio(a, b, seed: 1))
    }
}
