import AssayCore

/// Whether a candidate's per-item scores differ from a reference's on the same items: the mean
/// difference (candidate − reference) with a paired bootstrap 95 % interval, and a paired
/// approximate-randomization test (each trial swaps the two scores of every item with probability
/// ½; p = (1 + #{|Δ_trial| ≥ |Δ_observed|}) / (1 + trials)). Seeded, so runs repeat exactly.
public enum PairedComparison {
    /// The comparison's outcome.
    public struct Result: Sendable, Equatable {
        public var referenceMean: Double
        public var candidateMean: Double
        /// candidate − reference.
        public var delta: Double
        public var deltaLow: Double
        public var deltaHigh: Double
        /// Two-sided approximate-randomization p-value.
        public var pValue: Double
        public var verdict: Verdict
    }

    /// The verdict at the 5 % level, oriented by which direction is better.
    public enum Verdict: String, Sendable, Equatable {
        case noSignificantDifference = "no significant difference"
        case significantlyWorse = "significantly worse"
        case significantlyBetter = "significantly better"
    }

    /// Compares paired scores (`reference[i]` and `candidate[i]` belong to item i).
    /// - Precondition: equal, non-zero counts; `resamples` and `trials` ≥ 1.
    public static func compare(reference: [Double], candidate: [Double], higherIsBetter: Bool, resamples: Int = 1000, trials: Int = 1000,
                               seed: UInt64 = 12345) -> Result {
        precondition(reference.count == candidate.count && !reference.isEmpty, "paired scores of equal, non-zero length")
        let n = reference.count
        let differences = zip(candidate, reference).map { $0 - $1 }
        let observed = differences.reduce(0, +) / Double(n)
        let draws = Bootstrap.indices(count: n, resamples: resamples, seed: seed)
        let interval = Bootstrap.interval(draws.map { draw in draw.reduce(0.0) { $0 + differences[$1] } / Double(n) })
        var rng = SeededGenerator(seed: seed &+ 1)
        var extreme = 0
        for _ in 0..<trials {
            var sum = 0.0
            for d in differences { sum += rng.next() & 1 == 0 ? d : -d }
            if abs(sum / Double(n)) >= abs(observed) - 1e-15 { extreme += 1 }
        }
        let p = Double(extreme + 1) / Double(trials + 1)
        let verdict: Verdict = p >= 0.05 || observed == 0 ? .noSignificantDifference
            : ((observed > 0) == higherIsBetter ? .significantlyBetter : .significantlyWorse)
        return Result(referenceMean: reference.reduce(0, +) / Double(n), candidateMean: candidate.reduce(0, +) / Double(n),
                      delta: observed, deltaLow: interval.low, deltaHigh: interval.high, pValue: p, verdict: verdict)
    }
}
