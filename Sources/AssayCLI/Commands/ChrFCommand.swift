import ArgumentParser
import AssayMetrics
import AssayStats
import Foundation

extension AssayCommand {
    /// `assay chrf`: sacrebleu-compatible chrF and chrF++.
    struct ChrFCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "chrf",
            abstract: "chrF / chrF++ identical to sacrebleu 2.x (--word-order 2 for chrF++).",
            discussion: """
                Examples:
                  assay chrf hyp.txt --ref ref.txt
                  assay chrf hyp.txt --ref ref.txt --word-order 2 --format json     # chrF++
                  assay chrf hyp.txt --ref ref.txt --sentence
                """)

        @OptionGroup var input: MTInputOptions

        @Option(name: .customLong("char-order"), parsing: .unconditional, help: "Character n-gram order (1–6).")
        var charOrder: Int = 6

        @Option(name: .customLong("word-order"), parsing: .unconditional, help: "Word n-gram order: 0 = chrF, 2 = chrF++ (0–4).")
        var wordOrder: Int = 0

        @Option(name: .long, parsing: .unconditional, help: "Recall weight beta.")
        var beta: Int = 2

        @Flag(name: [.long, .customShort("l")], help: "Lowercase hypotheses and references.")
        var lowercase = false

        @Flag(name: .long, help: "Keep whitespace in character n-grams.")
        var whitespace = false

        @Flag(name: .customLong("eps-smoothing"), help: "Epsilon smoothing (chrF++.py, NLTK, Moses) instead of effective order.")
        var epsSmoothing = false

        @OptionGroup var significance: SignificanceOptions

        func validate() throws {
            guard (1...6).contains(charOrder) else { throw ValidationError("--char-order must be 1 to 6") }
            guard (0...4).contains(wordOrder) else { throw ValidationError("--word-order must be 0 to 4") }
            guard beta >= 1 else { throw ValidationError("--beta must be at least 1") }
        }

        func run() async throws {
            let corpus = try input.load()
            let chrf = try ChrF(.init(charOrder: charOrder, wordOrder: wordOrder, beta: beta, lowercase: lowercase,
                                      whitespace: whitespace, epsilonSmoothing: epsSmoothing))
            let references = ReferenceCount(corpus.references)
            let stats = chrf.statistics(hypotheses: corpus.hypotheses, references: corpus.references)
            let scorer = CorpusScorer<[Int]>(statistics: { chrf.statistics(hypotheses: $0, references: $1) },
                                             score: { chrf.score(chrf.sum($0)) })
            let json = significance.format == .json
            if significance.sentence {
                let signature = chrf.signature(references: references).description
                let scores = stats.map { chrf.score($0) }
                if json {
                    try JSONOutput.print(["sentences": scores.map { ScoreOutput(name: chrf.name, score: $0, signature: signature) }], pretty: false)
                } else {
                    Terminal.output(lines: scores.map { "\(chrf.name)|\(signature) = \(String(format: "%.2f", $0))" })
                }
                return
            }
            if let baselinePath = significance.pairedBaseline {
                try scorer.runPaired(name: chrf.name, signature: { chrf.signature(references: $0, bootstrap: (significance.resamples, significance.seed)).description },
                                     input: input, corpus: corpus, stats: stats, baselinePath: baselinePath, significance: significance)
                return
            }
            let score = scorer.score(stats)
            let interval = significance.confidence ? scorer.interval(stats, resamples: significance.resamples, seed: significance.seed) : nil
            let signature = chrf.signature(references: references,
                                           bootstrap: interval == nil ? nil : (significance.resamples, significance.seed)).description
            if json {
                try JSONOutput.print(ScoreOutput(name: chrf.name, score: score, signature: signature, interval: interval), pretty: false)
            } else {
                var line = "\(chrf.name)|\(signature) = \(String(format: "%.2f", score))"
                if let interval { line += " " + ConfidenceOutput.text(interval) }
                Terminal.output(line)
            }
        }
    }
}
