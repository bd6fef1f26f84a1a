import AssayCore
import AssayStats
import Testing

struct SeededGeneratorTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 12345), b = SeededGenerator(seed: 12345), c = SeededGenerator(seed: 12346)
        let x = (0..<8).map { _ in a.next() }
        #expect(x == (0..<8).map { _ in b.next() })
        #expect(x != (0..<8).map { _ in c.next() })
    }

    @Test func indicesStayInRangeAndCoverIt() {
        var rng = SeededGenerator(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let i = rng.index(below: 7)
            #expect((0..<7).contains(i))
            seen.insert(i)
        }
        #expect(seen.count == 7)
    }
}

struct SummaryTests {
    @Test func meanAndStandardDeviation() {
        #expect(Summary.mean([1, 2, 3, 4]) == 2.5)
        #expect(Summary.mean([]) == nil)
        #expect(abs(Summary.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9])! - 2.138089935299395) < 1e-12)
        #expect(Summary.standardDeviation([1]) == nil)
    }

    @Test(arguments: [(0.0, 1.0), (50.0, 3.0), (100.0, 5.0), (25.0, 2.0), (90.0, 4.6)])
    func percentileMatchesNumpyLinear(_ p: Double, _ expected: Double) {
        // numpy.percentile([5, 1, 4, 2, 3], p) with the default linear method.
        #expect(abs(Summary.percentile([5, 1, 4, 2, 3], p)! - expected) < 1e-12)
    }
}

struct BootstrapTests {
    @Test func intervalUsesSacrebleuOrderStatistics() {
        // 1000 scores 0…999: lower index 1000/40 = 25, upper 1000 − 25 − 1 = 974.
        let interval = Bootstrap.interval((0..<1000).map(Double.init).shuffled())
        #expect(interval.low == 25 && interval.high == 974)
        #expect(interval.mean == 499.5)
        #expect(interval.halfWidth == 474.5)
    }

    @Test func resamplesAreReproducible() {
        #expect(Array(Bootstrap.indices(count: 50, resamples: 3, seed: 7)) == Array(Bootstrap.indices(count: 50, resamples: 3, seed: 7)))
        #expect(Array(Bootstrap.indices(count: 50, resamples: 3, seed: 7)) != Array(Bootstrap.indices(count: 50, resamples: 3, seed: 8)))
        // Made one at a time: every pass gives the same draws, as many as asked.
        let draws = Bootstrap.indices(count: 50, resamples: 3, seed: 7)
        #expect(Array(draws) == Array(draws))
        #expect(Array(draws).count == 3 && Array(draws).allSatisfy { $0.count == 50 && $0.allSatisfy { (0..<50).contains($0) } })
    }

    @Test func pairedTestSeparatesDifferentSystemsAndNotIdenticalOnes() {
        let a = (0..<200).map { Double($0 % 10) }
        let b = a.map { $0 + 3 }
        func mean(_ xs: [Double], _ idx: [Int]) -> Double { idx.reduce(0) { $0 + xs[$1] } / Double(idx.count) }
        let different = PairedBootstrap.test(count: 200, resamples: 500, seed: 12345, observedDifference: 3,
                                             baselineScore: { mean(a, $0) }, systemScore: { mean(b, $0) })
        #expect(different.pValue < 0.01)
        let same = PairedBootstrap.test(count: 200, resamples: 500, seed: 12345, observedDifference: 0,
                                        baselineScore: { mean(a, $0) }, systemScore: { mean(a, $0) })
        #expect(same.pValue == 1.0 / 501.0)
    }
}
