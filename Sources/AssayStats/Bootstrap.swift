import AssayCore

/// Bootstrap resampling over per-item statistics.
///
/// Items are resampled with replacement; a caller-supplied function turns a resampled list of
/// item indices into a score (for corpus metrics: sum the items' sufficient statistics, then
/// compute the corpus score). Matches sacrebleu's definitions of the interval: scores sorted,
/// lower = scores[n / 40], upper = scores[n − n / 40 − 1].
public enum Bootstrap {
    /// The most resamples an input may ask for (sacrebleu's default is 1,000; 100,000 already
    /// takes minutes on a large corpus, and more is a typo).
    public static let maximumResamples = 100_000

    /// Resampled index lists, `resamples` of them, each as long as the sample, made one at a time
    /// as they are iterated (every pass over them gives the same draws).
    /// - Parameters:
    ///   - count: number of items in the sample.
    ///   - resamples: number of bootstrap resamples.
    ///   - seed: the generator's seed (appears in signatures).
    /// - Complexity: O(resamples × count) time a pass, O(count) memory.
    public static func indices(count: Int, resamples: Int, seed: UInt64) -> Draws {
        precondition(count > 0 && resamples > 0, "need items and resamples")
        return Draws(count: count, resamples: resamples, seed: seed)
    }

    /// The draws of ``indices(count:resamples:seed:)``: all of them held at once had taken
    /// resamples × count integers (16 GB for 2,000 resamples of a million items).
    public struct Draws: Sequence, Equatable, Sendable {
        /// Items in the sample.
        public let count: Int
        /// Number of draws.
        public let resamples: Int
        /// The generator's seed.
        public let seed: UInt64

        public var underestimatedCount: Int { resamples }

        public func makeIterator() -> Iterator { Iterator(count: count, remaining: resamples, rng: SeededGenerator(seed: seed)) }

        /// Makes each draw from the generator, in order.
        public struct Iterator: IteratorProtocol {
            let count: Int
            var remaining: Int
            var rng: SeededGenerator

            public mutating func next() -> [Int]? {
                guard remaining > 0 else { return nil }
                remaining -= 1
                return (0..<count).map { _ in rng.index(below: count) }
            }
        }
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

    /// The bootstrap interval of the mean of `values`: `resamples` draws of `values.count` indices
    /// with replacement (seeded), each draw's mean summed in draw order, then ``interval(_:)``.
    /// - Precondition: `values` is not empty and `resamples > 0`.
    public static func meanInterval(_ values: [Double], resamples: Int, seed: UInt64) -> Interval {
        interval(indices(count: values.count, resamples: resamples, seed: seed).map { draw in
            draw.reduce(0.0) { $0 + values[$1] } / Double(values.count)
        })
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

/// Paired bootstrap resampling test (Koehn 2004), with sacrebleu 2.x's definitions
/// (`_paired_bs_test`): both systems are scored on the same resamples; the p-value is
/// (1 + #{|Δ_b| − mean|Δ| > |Δ_observed|}) / (1 + resamples).
public enum PairedBootstrap {
    /// The test's result.
    public struct Result: Sendable, Equatable {
        /// Interval of the baseline's resampled scores.
        public var baseline: Bootstrap.Interval
        /// Interval of the system's resampled scores.
        public var system: Bootstrap.Interval
        /// Two-sided p-value of the difference.
        public var pValue: Double
    }

    /// Runs the test.
    /// - Parameters:
    ///   - count: number of items (segments).
    ///   - observedDifference: |score(system) − score(baseline)| on the full sample.
    ///   - baselineScore: score of a resample of the baseline (item indices in, score out).
    ///   - systemScore: score of the same resample of the system.
    public static func test(count: Int, resamples: Int, seed: UInt64, observedDifference: Double,
                            baselineScore: ([Int]) -> Double, systemScore: ([Int]) -> Double) -> Result {
        let draws = Bootstrap.indices(count: count, resamples: resamples, seed: seed)
        let baseline = draws.map(baselineScore)
        let system = draws.map(systemScore)
        let differences = zip(system, baseline).map { abs($0 - $1) }
        let meanDifference = differences.reduce(0, +) / Double(differences.count)
        let exceed = differences.filter { $0 - meanDifference > observedDifference }.count
        return Result(baseline: Bootstrap.interval(baseline), system: Bootstrap.interval(system),
                      pValue: Double(exceed + 1) / Double(resamples + 1))
    }
}
