import AssayCore
import AssayStats
import Foundation
import Histogram

/// Summary of one throughput test's repetitions, with llama-bench's field meanings: mean and sample
/// standard deviation of the wall time per repetition (`avg_ns`, `stddev_ns`) and of tokens/s per
/// repetition (`avg_ts`, `stddev_ts`); latencies of generation as HdrHistogram percentiles.
public struct ThroughputSummary: Sendable, Equatable {
    public var samplesNanoseconds: [UInt64]
    public var samplesTokensPerSecond: [Double]
    public var averageNanoseconds: Double
    public var stddevNanoseconds: Double
    public var averageTokensPerSecond: Double
    public var stddevTokensPerSecond: Double
    /// Mean time to first token over the repetitions (generation tests), in ms.
    public var timeToFirstTokenMilliseconds: Double?
    /// Inter-token latency percentiles over every gap of every repetition, in ms.
    public var interTokenMilliseconds: (p50: Double, p90: Double, p99: Double)?

    public static func == (a: Self, b: Self) -> Bool {
        a.samplesNanoseconds == b.samplesNanoseconds && a.timeToFirstTokenMilliseconds == b.timeToFirstTokenMilliseconds
            && a.interTokenMilliseconds?.p50 == b.interTokenMilliseconds?.p50 && a.interTokenMilliseconds?.p99 == b.interTokenMilliseconds?.p99
    }

    /// Summarises repetitions of a test that counts `tokens` tokens.
    /// - Parameters:
    ///   - nanoseconds: each repetition's wall time.
    ///   - timeToFirstToken: each repetition's time to the first generated token (generation tests).
    ///   - interTokenGaps: every gap between generated tokens, in nanoseconds.
    public init(tokens: Int, nanoseconds: [UInt64], timeToFirstToken: [UInt64], interTokenGaps: [UInt64]) {
        precondition(!nanoseconds.isEmpty, "need repetitions")
        samplesNanoseconds = nanoseconds
        samplesTokensPerSecond = nanoseconds.map { Double(tokens) / (Double($0) / 1e9) }
        (averageNanoseconds, stddevNanoseconds) = Self.meanAndSampleStddev(nanoseconds.map { Double($0) })
        (averageTokensPerSecond, stddevTokensPerSecond) = Self.meanAndSampleStddev(samplesTokensPerSecond)
        timeToFirstTokenMilliseconds = timeToFirstToken.isEmpty ? nil : timeToFirstToken.reduce(0.0) { $0 + Double($1) } / Double(timeToFirstToken.count) / 1e6
        if interTokenGaps.isEmpty {
            interTokenMilliseconds = nil
        } else {
            var histogram = Histogram<UInt64>(highestTrackableValue: max(2, interTokenGaps.max()! * 2), numberOfSignificantValueDigits: .three)
            for gap in interTokenGaps { _ = histogram.record(max(1, gap)) }
            func ms(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1e6 }
            interTokenMilliseconds = (ms(50), ms(90), ms(99))
        }
    }

    /// Mean and sample standard deviation (n − 1; 0 for one value), as llama-bench reports.
    public static func meanAndSampleStddev(_ values: [Double]) -> (Double, Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    /// Ratio of mean tokens/s (a over b) with a 95 % bootstrap interval: each side's repetitions
    /// resampled on their own (seeded), the ratio of the resampled means taken each time.
    public static func speedRatio(_ a: [Double], _ b: [Double], resamples: Int = 2000, seed: UInt64 = 12345) -> (ratio: Double, low: Double, high: Double) {
        precondition(!a.isEmpty && !b.isEmpty, "need samples on both sides")
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
        var rng = SeededGenerator(seed: seed)
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let ra = (0..<a.count).map { _ in a[rng.index(below: a.count)] }
            let rb = (0..<b.count).map { _ in b[rng.index(below: b.count)] }
            ratios.append(mean(ra) / mean(rb))
        }
        let interval = Bootstrap.interval(ratios)
        return (mean(a) / mean(b), interval.low, interval.high)
    }
}
