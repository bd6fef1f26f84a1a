import AssayStats
import Testing

struct PairedComparisonTests {
    @Test func aConsistentShiftIsSignificantAndNoiseIsNot() {
        let reference = (0..<200).map { Double($0 % 17) / 17 }
        let shifted = reference.map { $0 - 0.05 }
        let worse = PairedComparison.compare(reference: reference, candidate: shifted, higherIsBetter: true, resamples: 500, trials: 500, seed: 3)
        #expect(abs(worse.delta + 0.05) < 1e-12 && abs(worse.deltaLow + 0.05) < 1e-9 && abs(worse.deltaHigh + 0.05) < 1e-9)
        #expect(worse.verdict == .significantlyWorse && worse.pValue < 0.01)
        #expect(PairedComparison.compare(reference: reference, candidate: shifted, higherIsBetter: false, resamples: 100, trials: 100).verdict
            == .significantlyBetter)
        // Differences of ±0.01 in alternation: mean 0, no difference.
        let noisy = reference.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 0.01 : -0.01) }
        let same = PairedComparison.compare(reference: reference, candidate: noisy, higherIsBetter: true, resamples: 500, trials: 500, seed: 3)
        #expect(same.verdict == .noSignificantDifference && same.pValue > 0.5 && same.deltaLow < 0 && same.deltaHigh > 0)
        // Seeded: the same inputs give the same result.
        #expect(PairedComparison.compare(reference: reference, candidate: noisy, higherIsBetter: true, resamples: 500, trials: 500, seed: 3) == same)
    }
}
