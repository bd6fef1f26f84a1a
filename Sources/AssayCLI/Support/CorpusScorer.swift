import AssayMetrics
import AssayStats
import Foundation

/// What `assay bleu` and `assay chrf` share: per-segment statistics, corpus score, bootstrap
/// interval and paired bootstrap test.
struct CorpusScorer<Stats> {
    /// Statistics of every segment.
    var statistics: ([String], [[String]]) -> [Stats]
    /// Score of summed statistics.
    var score: ([Stats]) -> Double

    /// Score of the resample `indices` of `stats`.
    func resampledScore(_ stats: [Stats], _ indices: [Int]) -> Double { score(indices.map { stats[$0] }) }

    /// Bootstrap interval of the corpus score.
    func interval(_ stats: [Stats], resamples: Int, seed: UInt64) -> Bootstrap.Interval {
        let draws = Bootstrap.indices(count: stats.count, resamples: resamples, seed: seed)
        return Bootstrap.interval(draws.map { resampledScore(stats, $0) })
    }

    /// Paired bootstrap test of `system` against `baseline`.
    func paired(system: [Stats], baseline: [Stats], resamples: Int, seed: UInt64) -> PairedBootstrap.Result {
        let difference = abs(score(system) - score(baseline))
        return PairedBootstrap.test(count: system.count, resamples: resamples, seed: seed, observedDifference: difference,
                                    baselineScore: { resampledScore(baseline, $0) }, systemScore: { resampledScore(system, $0) })
    }
}

/// JSON printing for the metric commands.
enum JSONOutput {
    /// Prints `object` as one JSON document with sorted keys.
    static func print(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Prints an Encodable value.
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }
}
