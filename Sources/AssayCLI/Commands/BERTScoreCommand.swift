import ArgumentParser
import AssayCheckpoint
import AssayCore
import AssayEvaluators
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayReport
import AssayTensor
import Foundation

/// Options shared by `assay bertscore` and `assay bertscore-baseline`: the encoder and how to run it.
struct EncoderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A BERT or RoBERTa directory (config.json, *.safetensors, tokenizer.json or vocab.txt). Default: all-minilm-l6-v2 in $ASSAY_MODELS (~/.cache/assay/models; scripts/fetch-models.sh fetches it).",
        valueName: "dir"))
    var encoder: String?

    @Option(name: .long, help: ArgumentHelp("Quantize the encoder's projection weights in memory first: q8_0 or q4_0 (to measure quantization drift).", valueName: "type"))
    var quantize: String?

    @Option(name: .long, parsing: .unconditional, help: "Threads for matrix products (default: the CPUs this process may use — its affinity mask and cgroup CPU limit).")
    var threads: Int?

    @Option(name: .customLong("batch-tokens"), parsing: .unconditional, help: "Tokens per encoder batch.")
    var batchTokens: Int = 8192

    func validate() throws {
        if let quantize, !["q8_0", "q4_0"].contains(quantize) { throw ValidationError("--quantize must be q8_0 or q4_0") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard batchTokens >= 1 else { throw ValidationError("--batch-tokens must be at least 1") }
    }

    /// The encoder directory: --encoder, or the MiniLM in the model cache.
    var directory: URL {
        if let encoder { return URL(fileURLWithPath: encoder) }
        let environment = ProcessInfo.processInfo.environment
        let models = environment["ASSAY_MODELS"] ?? (environment["HOME"] ?? "") + "/.cache/assay/models"
        return URL(fileURLWithPath: models).appendingPathComponent("all-minilm-l6-v2")
    }

    /// Loads the scorer, quantized when asked, and sets the threads (the encoder's workers, and OpenBLAS's).
    func load() throws -> BERTScorer {
        if let threads { BLAS.threads = threads }
        let url = directory
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.unreadable(path: url.path, reason: "no encoder here (pass --encoder DIR, or run scripts/fetch-models.sh for all-MiniLM-L6-v2)")
        }
        let model = try EncoderModel(directory: url)
        guard let quantize else { return try BERTScorer(model: model) }
        return try BERTScorer(model: try model.quantized(quantize == "q8_0" ? .q8_0 : .q4_0))
    }
}

extension AssayCommand {
    /// `assay bertscore`: BERTScore as bert_score 0.3.13 computes it, on the in-repo encoder.
    struct BERTScoreCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bertscore",
            abstract: "BERTScore (precision, recall, F1) identical to bert_score 0.3.13, on Assay's own BERT/RoBERTa encoder.",
            discussion: """
                Each candidate and reference is stripped and encoded with the model's special tokens \
                ([CLS] … [SEP]), truncated at the model's maximum length; every token's hidden state at \
                --layer is L2-normalised; each candidate token takes its highest cosine with a reference \
                token (precision) and each reference token its highest with a candidate token (recall), \
                averaged with weight 1 ([CLS]/[SEP] weigh 0) or, with --idf, ln((M+1)/(df+1)) from the M \
                references. F1 = 2PR/(P+R). With several --ref files a candidate keeps the best P, R and F \
                each on its own. An empty candidate or reference scores 0.

                --layer defaults to bert_score's tuned layer for known models and to the last layer \
                otherwise (all-MiniLM-L6-v2: 6). --rescale FILE applies (x − b)/(1 − b) with a baseline in \
                bert_score's format (LAYER,P,R,F); `assay bertscore-baseline` builds one.

                The signature names the model, layer, idf, version and rescaling like bert_score's hash.
                --cache-references keeps the references' embeddings in the store (--store) and takes \
                them from there when the encoder's weights, its quantization, the layer and the assay \
                build are the same: a gate that scores new candidates against fixed references then \
                embeds only the candidates. (A `bertscore` evaluation in a suite does this with the run's store.)

                Examples:
                  assay bertscore hyp.txt --ref ref.txt
                  assay bertscore hyp.txt --ref refA.txt --ref refB.txt --idf --layer 4 --format json
                  assay bertscore hyp.txt --ref ref.txt --encoder ~/models/roberta-large --rescale roberta-large.tsv
                  assay bertscore data.jsonl --hyp-field output --ref-field reference
                  assay bertscore new-hyp.txt --ref ref.txt --cache-references --store gate.sqlite
                """)

        @OptionGroup var input: MTInputOptions
        @OptionGroup var encoder: EncoderOptions

        @Option(name: .long, parsing: .unconditional, help: "Hidden layer to use (0 = embeddings; default: bert_score's tuned layer, else the last).")
        var layer: Int?

        @Flag(name: .long, help: "Weight tokens by inverse document frequency over the references.")
        var idf = false

        @Option(name: .long, help: ArgumentHelp("Rescale with this baseline file (LAYER,P,R,F rows).", valueName: "file"))
        var rescale: String?

        @Flag(name: .customLong("exclude-special-from-matching"), help: "Leave [CLS]/[SEP] out of the similarity matrix, not only out of the weights (bert_score issue #180; changes the numbers).")
        var excludeSpecial = false

        @Flag(name: .customLong("cache-references"), help: "Keep the references' embeddings in the store and take them from there next time (same encoder weights, quantization, layer and assay build).")
        var cacheReferences = false
        @OptionGroup var storeOptions: StoreOptions
        @Option(name: .long, help: "text (bert_score's line), json (per-item and mean P, R, F) or tsv (one line per item).")
        var format: Format = .text

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, tsv }

        func run() async throws {
            let corpus = try input.load()
            let loading = Date()
            let scorer = try encoder.load()
            let loadSeconds = Date().timeIntervalSince(loading)
            let baseline = try rescale.map { try BERTScoreBaseline(contentsOf: URL(fileURLWithPath: $0)) }
            let progress = TerminalProgress()
            let started = Date()
            let cache = try cacheReferences ? BERTScorer.ReferenceCache(
                cache: storeOptions.open(),
                identity: [try SHA256.hex(modelAt: encoder.directory), encoder.quantize ?? "none", EvaluationItemCache.buildIdentity].joined(separator: "|")) : nil
            let result = try scorer.score(
                candidates: corpus.hypotheses, references: corpus.references,
                options: .init(layer: layer, idf: idf, baseline: baseline, excludeSpecialFromMatching: excludeSpecial,
                               batchTokens: encoder.batchTokens), referenceCache: cache) { done, total in
                progress.update(evaluation: "bertscore", completed: done, total: total, detail: "texts")
            }
            let seconds = Date().timeIntervalSince(started)
            switch format {
            case .json:
                try JSONOutput.print(WithPeakRSS(Output(
                    precision: result.scores.map(\.precision), recall: result.scores.map(\.recall), f1: result.scores.map(\.f1),
                    mean: .init(precision: result.mean.precision, recall: result.mean.recall, f1: result.mean.f1), layer: result.layer,
                    signature: result.signature, pairs: result.scores.count, textsEncoded: result.textsEncoded,
                    tokensEncoded: result.tokensEncoded, referencesCached: result.referencesFromCache, seconds: seconds,
                    loadSeconds: loadSeconds)), pretty: false)
            case .tsv:
                Terminal.output(lines: ["precision\trecall\tf1"] + result.scores.map { String(format: "%.6f\t%.6f\t%.6f", $0.precision, $0.recall, $0.f1) })
            case .text:
                Terminal.output(String(format: "%@ P: %.6f R: %.6f F1: %.6f", result.signature, result.mean.precision, result.mean.recall, result.mean.f1))
                Terminal.error(String(format: "%d pairs (%d distinct texts, %d tokens embedded%@) in %.2f s: %.1f pairs/s\n", result.scores.count,
                                      result.textsEncoded, result.tokensEncoded,
                                      cache == nil ? "" : "; \(result.referencesFromCache) references from the store",
                                      seconds, Double(result.scores.count) / max(seconds, 1e-9)))
            }
        }

        /// `--format json`: bert_score's per-pair P/R/F lists, their means and the run's facts.
        struct Output: Encodable {
            struct Mean: Encodable { var precision, recall, f1: Double }

            var precision, recall, f1: [Double]
            var mean: Mean
            var layer: Int
            var signature: String
            var pairs, textsEncoded, tokensEncoded, referencesCached: Int
            var seconds, loadSeconds: Double

            enum CodingKeys: String, CodingKey {
                case precision, recall, f1, mean, layer, signature, pairs, textsEncoded = "texts_encoded", tokensEncoded = "tokens_encoded",
                     referencesCached = "references_cached", seconds, loadSeconds = "load_seconds"
            }
        }
    }
}

extension AssayCommand {
    /// `assay bertscore-baseline`: a rescaling baseline from random sentence pairs.
    struct BERTScoreBaselineCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bertscore-baseline",
            abstract: "Build a BERTScore rescaling baseline (LAYER,P,R,F for every layer) from random pairs of unrelated sentences.",
            discussion: """
                bert_score's baselines are the average scores of random sentence pairs from a large \
                monolingual corpus; rescaling with one, (x − b)/(1 − b), spreads scores that crowd near \
                that level. This reads CORPUS (one sentence per line; blank lines and repeats dropped), \
                draws --pairs pairs of different sentences with --seed, scores them at every layer without \
                idf and writes bert_score's file format. Use a corpus in the language you evaluate, \
                unrelated to the test set, and several thousand pairs.

                Examples:
                  assay bertscore-baseline news.en.txt --pairs 5000 --output minilm-en.csv
                  assay bertscore hyp.txt --ref ref.txt --rescale minilm-en.csv
                """)

        @Argument(help: ArgumentHelp("Sentences, one per line (UTF-8).", valueName: "corpus"))
        var corpus: String

        @OptionGroup var encoder: EncoderOptions

        @Option(name: .long, parsing: .unconditional, help: "Random sentence pairs to average.")
        var pairs: Int = 2000

        @Option(name: .long, parsing: .unconditional, help: "Seed for drawing the pairs.")
        var seed: UInt64 = 12345

        @Option(name: [.short, .long], help: ArgumentHelp("Write the baseline here (default: stdout).", valueName: "file"))
        var output: String?

        func validate() throws {
            guard pairs >= 1 else { throw ValidationError("--pairs must be at least 1") }
        }

        func run() async throws {
            let url = URL(fileURLWithPath: corpus)
            let lines = try UTF8Lines.read(url)
            let scorer = try encoder.load()
            let progress = TerminalProgress()
            let baseline = try scorer.baseline(sentences: lines, pairs: pairs, seed: seed, batchTokens: encoder.batchTokens) { done, total in
                progress.update(evaluation: "bertscore-baseline", completed: done, total: total, detail: "texts")
            }
            if let output {
                try AtomicFile.write(Data(baseline.csv.utf8), to: URL(fileURLWithPath: output))
                Terminal.error("wrote \(output): layers 0…\(scorer.encoder.configuration.layers), \(pairs) pairs, seed \(seed)\n")
            } else {
                Terminal.output(baseline.csv, terminator: "")
            }
        }
    }
}
