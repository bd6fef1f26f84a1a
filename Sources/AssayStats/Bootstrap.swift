/// Bootstrap resampling over per-item statistics.
///
/// Items are resampled with replacement; a caller-supplied function turns a resampled list of
/// item indices into a score (for corpus metrics: sum the items' sufficient statistics, then
/// compute the corpus score). Matches sacrebleu's definitions of the interval: scores sorted,
/// lower = scores[n / 40], upper = scores[n − n / 40 − 1].
public enum Bootstrap {
    /// Resampled index lists, `resamples` of them, each as long as the sample.
    /// - Parameters:
    ///   - count: number of items in the sample.
    ///   - resamples: number of bootstrap resamples.
    ///   - seed: the generator's seed (appears in signatures).
    /// - Complexity: O(resamples × count).
    public static func indices(count: Int, resamples: Int, seed: UInt64) -> [[Int]] {
        precondition(count > 0 && resamples > 0, "need items and resamples")
        var rng = SeededGenerator(seed: seed)
        return (0..<resamples).map { _ in (0..<count).map { _ in rng.index(below: count) } }
    }

    /// The 95 % interval and mean of a list of resampled scores, as sacrebleu's `estimate_ci`.
    public static func interval(_ scores: [Double]) -> Interval {
        precondition(!scores.isEmpty, "need scores")
        let sorted = scores.sorted()
        let lowerIndex = sorted.count / 40
        let upperIndex = sorted.count - lowerIndex - 1
        let mean = sorted.reduce(0, +) / Double(sorted.count)
        return Interval(mean: mean, low: sorted[lowerIndex], high: sorted[upperIndex])
    }

    /// A bootstrap interval: mean of the resampled scores and the 2.5 % / 97.5 % order statistics.
    public struct Interval: Sendable, Equatable, Codable {
        /// Mean of the resampled scores.
        public var mean: Double
        /// Lower end of the 95 % interval.
        public var low: Double
        /// Upper end of the 95 % interval.
        public var high: Double
        /// Half the width of the interval (sacrebleu's "±").
        public var halfWidth: Double { (high - low) / 2 }

        /// Creates an interval.
        public init(mean: Double, low: Double, high: Double) {
            self.mean = mean
            self.low = low
            self.high = high
        }
    }
}
