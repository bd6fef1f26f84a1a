import ArgumentParser
import AssayCore
import AssayMetrics
import AssayStats
import Foundation

extension AssayCommand {
    /// `assay bleu`: sacrebleu-compatible BLEU.
    struct BLEUCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bleu",
            abstract: "BLEU identical to sacrebleu 2.x (corpus, sentence, bootstrap CI, paired bootstrap).",
            discussion: """
                Examples:
                  assay bleu hyp.txt --ref ref.txt
                  assay bleu hyp.txt --ref refA.txt --ref refB.txt --tokenize intl --format json
                  assay bleu hyp.txt --ref ref.txt --sentence --smooth floor
                  assay bleu new.txt --ref ref.txt --paired-bs old.txt
                  assay bleu data.jsonl --hyp-field hyp --ref-field refs --format json

                Lines are read as sacrebleu reads them (UTF-8, split at \\n, trailing whitespace removed). \
                The signature (nrefs, case, eff, tok, smooth, version) states every setting that changes the score.
                """)

        @OptionGroup var input: MTInputOptions

        @Option(name: .long, help: ArgumentHelp("Tokenizer: \(MTTokenizers.names.joined(separator: ", ")).", valueName: "name"))
        var tokenize: String = "13a"

        @Flag(name: [.long, .customShort("l")], help: "Lowercase hypotheses and references.")
        var lowercase = false

        @Option(name: .long, help: ArgumentHelp("Smoothing: exp (default), floor, add-k, none.", valueName: "method"))
        var smooth: String = "exp"

        @Option(name: .customLong("smooth-value"), parsing: .unconditional, help: "Value for floor (default 0.1) or add-k (default 1).")
        var smoothValue: Double?

        @OptionGroup var significance: SignificanceOptions

        func validate() throws {
            guard MTTokenizers.names.contains(tokenize) else {
                let suggestion = Suggestions.closest(to: tokenize, in: MTTokenizers.names)
                throw ValidationError("unknown tokenizer '\(tokenize)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                                      + " (choose from \(MTTokenizers.names.joined(separator: ", ")))")
            }
            guard BLEU.Smoothing.names.contains(smooth) else {
                throw ValidationError("unknown smoothing '\(smooth)' (choose from \(BLEU.Smoothing.names.joined(separator: ", ")))")
            }
            if let smoothValue, !(smoothValue > 0) { throw ValidationError("--smooth-value must be positive") }
        }

        func run() async throws {
            let corpus = try input.load()
            var configuration = BLEU.Configuration(tokenizer: tokenize, lowercase: lowercase,
                                                   smoothing: try .init(name: smooth, value: smoothValue))
            if significance.sentence { configuration.effectiveOrder = true }
            let bleu = try BLEU(configuration)
            let references = ReferenceCount(corpus.references)
            let stats = bleu.statistics(hypotheses: corpus.hypotheses, references: corpus.references)
            let scorer = CorpusScorer<BLEUStatistics>(
                statistics: { bleu.statistics(hypotheses: $0, references: $1) },
                score: { bleu.score(BLEUStatistics.sum($0, order: configuration.maxOrder)).score })
            let json = significance.format == .json

            if significance.sentence {
                let signature = bleu.signature(references: references).description
                let scores = stats.map { bleu.score($0) }
                if json {
                    try JSONOutput.print(["sentences": scores.map { ScoreOutput(name: "BLEU", score: $0.score, signature: signature, bleu: $0) }],
                                         pretty: false)
                } else {
                    Terminal.output(lines: scores.map { Self.text($0, signature: signature) })
                }
                return
            }
            if let baselinePath = significance.pairedBaseline {
                try scorer.runPaired(name: "BLEU", signature: { bleu.signature(references: $0, bootstrap: (significance.resamples, significance.seed)).description },
                                     input: input, corpus: corpus, stats: stats, baselinePath: baselinePath, significance: significance)
                return
            }
            let score = bleu.score(BLEUStatistics.sum(stats, order: configuration.maxOrder))
            let interval = significance.confidence ? scorer.interval(stats, resamples: significance.resamples, seed: significance.seed) : nil
            let signature = bleu.signature(references: references,
                                           bootstrap: interval == nil ? nil : (significance.resamples, significance.seed)).description
            if json {
                try JSONOutput.print(ScoreOutput(name: "BLEU", score: score.score, signature: signature, bleu: score, interval: interval),
                                     pretty: false)
            } else {
                Terminal.output(Self.text(score, signature: signature, interval: interval))
            }
        }

        /// sacrebleu's text line: `BLEU|sig = 24.59 (μ = … ± …) 58.1/31.7/19.0/11.5 (BP = 0.964 ratio = 0.964 hyp_len = … ref_len = …)`.
        static func text(_ score: BLEUScore, signature: String, interval: Bootstrap.Interval? = nil) -> String {
            let precisions = score.precisions.map { String(format: "%.1f", $0) }.joined(separator: "/")
            let ratio = score.referenceLength > 0 ? Double(score.systemLength) / Double(score.referenceLength) : 0
            var line = "BLEU|\(signature) = \(String(format: "%.2f", score.score))"
            if let interval { line += " " + ConfidenceOutput.text(interval) }
            line += " \(precisions) (BP = \(String(format: "%.3f", score.brevityPenalty)) ratio = \(String(format: "%.3f", ratio)) "
            line += "hyp_len = \(score.systemLength) ref_len = \(score.referenceLength))"
            return line
        }
    }
}

/// Confidence-interval output shared by the metric commands (sacrebleu's μ ± half-width).
enum ConfidenceOutput {
    static func text(_ interval: Bootstrap.Interval) -> String {
        "(μ = \(String(format: "%.2f", interval.mean)) ± \(String(format: "%.2f", interval.halfWidth)))"
    }
}

/// Paired-bootstrap output shared by the metric commands.
enum PairedOutput {
    static func emit(name: String, signature: String, baselineFile: String, systemFile: String, baselineScore: Double,
                     systemScore: Double, result: PairedBootstrap.Result, json: Bool) throws {
        if json {
            try JSONOutput.print(PairedScoreOutput(
                name: name, signature: signature,
                baseline: .init(file: baselineFile, score: baselineScore, mean: result.baseline.mean, ci: result.baseline.halfWidth,
                                ciLow: result.baseline.low, ciHigh: result.baseline.high),
                system: .init(file: systemFile, score: systemScore, mean: result.system.mean, ci: result.system.halfWidth,
                              ciLow: result.system.low, ciHigh: result.system.high, pValue: result.pValue)), pretty: false)
            return
        }
        Terminal.output("\(name)|\(signature)")
        Terminal.output("  Baseline: \(baselineFile): \(String(format: "%.2f", baselineScore)) \(ConfidenceOutput.text(result.baseline))")
        let mark = result.pValue < 0.05 ? "*" : ""
        Terminal.output("  System:   \(systemFile): \(String(format: "%.2f", systemScore)) \(ConfidenceOutput.text(result.system)) (p = \(String(format: "%.4f", result.pValue)))\(mark)")
        Terminal.output("  (paired bootstrap; * marks a difference significant at p < 0.05)")
    }
}
