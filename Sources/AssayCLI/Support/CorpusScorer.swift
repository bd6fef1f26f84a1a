import AssayEvaluators
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

    /// `--paired-bs`: loads the baseline hypotheses, scores both systems on the same references
    /// and resamples, and prints the test.
    func runPaired(name: String, signature: (ReferenceCount) -> String, input: MTInputOptions, corpus: ParallelCorpus,
                   stats: [Stats], baselinePath: String, significance: SignificanceOptions) throws {
        let baseline: ParallelCorpus
        do {
            baseline = try input.load(hypothesesPath: baselinePath)
        } catch let MetricsError.lineCountMismatch(hypotheses, _, _) {
            // The references match the system's hypotheses (loaded first): the baseline is the odd one.
            throw CommandError(message: "\(baselinePath) has \(hypotheses) lines but \(input.hypotheses) has \(corpus.hypotheses.count)",
                               hint: "both systems must translate the same segments")
        }
        guard baseline.hypotheses.count == corpus.hypotheses.count else {
            throw CommandError(message: "\(baselinePath) has \(baseline.hypotheses.count) lines but \(input.hypotheses) has \(corpus.hypotheses.count)",
                               hint: "both systems must translate the same segments")
        }
        let baselineStats = statistics(baseline.hypotheses, corpus.references)
        let result = paired(system: stats, baseline: baselineStats, resamples: significance.resamples, seed: significance.seed)
        try PairedOutput.emit(name: name, signature: signature(ReferenceCount(corpus.references)), baselineFile: baselinePath,
                              systemFile: input.hypotheses, baselineScore: score(baselineStats), systemScore: score(stats),
                              result: result, json: significance.format == .json)
    }

    /// Paired bootstrap test of `system` against `baseline`.
    func paired(system: [Stats], baseline: [Stats], resamples: Int, seed: UInt64) -> PairedBootstrap.Result {
        let difference = abs(score(system) - score(baseline))
        return PairedBootstrap.test(count: system.count, resamples: resamples, seed: seed, observedDifference: difference,
                                    baselineScore: { resampledScore(baseline, $0) }, systemScore: { resampledScore(system, $0) })
    }
}
