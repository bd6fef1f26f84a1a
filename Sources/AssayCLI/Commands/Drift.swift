import ArgumentParser
import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayTensor
import Foundation

extension AssayCommand {
    /// `assay drift`: llama-perplexity --kl-divergence's statistics in one run, no logits file.
    struct Drift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "How far a quantized (or other) model drifts from a reference: KL divergence, top-token agreement, Δp, perplexity ratio.",
            discussion: """
                Both models score the same chunks of TEXT as llama-perplexity cuts them (--context \
                tokens, the second half of each chunk scored) and Assay reports what \
                `llama-perplexity --kl-divergence` reports, in one pass and without a logits file: \
                PPL of both with the correlation of their per-token log-probabilities, mean \
                ln(PPL(Q)/PPL(base)) ± (with the covariance), PPL ratio and difference; KLD mean ± \
                stderr and percentiles; Δp = p(candidate) − p(reference) of the correct token, its \
                percentiles and RMS; the share of positions where both models' top token is the same. \
                KLD is computed in double precision over the whole vocabulary (llama.cpp stores the \
                base log-probabilities in 16 bits and skips those below e^-16). The two tokenizers \
                must give the same tokens; the first difference is reported otherwise.

                --candidate-quantize T quantizes in memory (the reference when there is no --candidate): \
                what-if quantization with no file, the same bytes `assay quantize` would write.

                Examples:
                  assay drift --reference model-f16.gguf --candidate model-q4_0.gguf wiki.test.raw --chunks 20
                  assay drift --reference model-f16.gguf --candidate-quantize q4_k wiki.test.raw --format json
                  assay drift --reference ./hf-model/ --candidate model-q8_0.gguf notes.txt --context 256
                """)

        @Option(name: .long, help: ArgumentHelp("The reference model: GGUF file or Hugging Face directory.", valueName: "model"))
        var reference: String

        @Option(name: .long, help: ArgumentHelp("The candidate model (same tokenizer).", valueName: "model"))
        var candidate: String?

        @Option(name: .customLong("candidate-quantize"), help: ArgumentHelp("Quantize the candidate (or the reference, without --candidate) in memory: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k.", valueName: "type"))
        var candidateQuantize: String?

        @Argument(help: ArgumentHelp("Text file (UTF-8), read as llama-perplexity -f reads it.", valueName: "text"))
        var text: String

        @Option(name: .long, parsing: .unconditional, help: "Tokens per chunk (llama-perplexity -c).")
        var context: Int = 512

        @Option(name: .long, parsing: .unconditional, help: "Evaluate at most this many chunks (0: all).")
        var chunks: Int = 0

        @Option(name: .long, help: ArgumentHelp("exact (default: f32 activations) or ggml (round activations as llama.cpp's CPU kernels do, for both models).", valueName: "numerics"))
        var numerics: LlamaModel.Numerics = .exact
        @Option(name: .long, help: cacheTypeHelp)
        var cacheType: LlamaModel.CacheType?

        @Option(name: .long, help: "text (llama-perplexity's layout) or json.")
        var format: OutputFormat = .text

        var quantization: GGMLType? { candidateQuantize.flatMap { name in Quantizer.supportedTypes.first { $0.description.lowercased() == name.lowercased() } } }

        @OptionGroup var threadOptions: ThreadOptions

        func validate() throws {
            guard candidate != nil || candidateQuantize != nil else {
                throw ValidationError("give --candidate MODEL, --candidate-quantize TYPE, or both")
            }
            if let candidateQuantize, quantization == nil {
                throw ValidationError("unknown --candidate-quantize '\(candidateQuantize)' (choose from \(Quantizer.supportedTypes.map { $0.description.lowercased() }.joined(separator: ", ")))")
            }
            guard context >= 4 else { throw ValidationError("--context must be at least 4") }
            guard chunks >= 0 else { throw ValidationError("--chunks must be 0 (all) or more") }
        }

        func run() async throws {
            threadOptions.apply()
            let base = try InProcessBackend(modelAt: URL(fileURLWithPath: reference), numerics: numerics, cacheType: cacheType)
            try base.model.checkContext(context, path: reference)  // before the candidate is loaded and quantized
            let other = try base.candidate(file: candidate.map { URL(fileURLWithPath: $0) }, quantization: quantization, numerics: numerics,
                                           cacheType: cacheType)
            let progress = TerminalProgress()
            let (textURL, context, chunks) = (URL(fileURLWithPath: text), self.context, self.chunks)
            let interrupt = InterruptHandler()
            let task = Task {
                try await DriftRunner.run(reference: base, candidate: other, textAt: textURL, context: context, maxChunks: chunks,
                                          progress: { done, total in progress.update(evaluation: "drift", completed: done, total: total, detail: "tokens") })
            }
            interrupt.onInterrupt { task.cancel() }
            let (result, signature) = try await task.value
            interrupt.cancel()
            guard let s = result.accumulator.summary else { throw ExitCode(130) }
            if format == .json {
                try JSONOutput.print(WithPeakRSS(Output(summary: s, signature: signature, chunks: result.chunks, context: context,
                                                        complete: result.complete, evalSeconds: result.evalSeconds,
                                                        perChunk: result.perChunk)), pretty: false)
            } else {
                Terminal.output(Self.text(s, signature: signature, complete: result.complete))
            }
            if !result.complete { throw ExitCode(130) }
        }

        /// `--format json`: the summary's fields (docs/drift.md), the run's facts and a few
        /// figures per chunk.
        struct Output: Encodable {
            var summary: DriftSummary
            var signature: String
            var chunks: Int
            var context: Int
            var complete: Bool
            var evalSeconds: Double
            var perChunk: [DriftSummary]

            struct Chunk: Encodable {
                var pplCandidate, lnPPLRatio, meanKLD, rmsDeltaP, sameTop: Double

                enum CodingKeys: String, CodingKey {
                    case pplCandidate = "ppl_candidate", lnPPLRatio = "ln_ppl_ratio", meanKLD = "mean_kld", rmsDeltaP = "rms_dp",
                         sameTop = "same_top_p"
                }
            }

            func encode(to encoder: any Encoder) throws {
                try summary.encode(to: encoder)
                var c = encoder.container(keyedBy: JSONKey.self)
                try c.encode(signature, "signature")
                try c.encode(chunks, "chunks")
                try c.encode(context, "context")
                try c.encode(complete, "complete")
                try c.encode(evalSeconds, "eval_seconds")
                try c.encode(perChunk.map { Chunk(pplCandidate: $0.pplCandidate, lnPPLRatio: $0.lnPPLRatio, meanKLD: $0.meanKLD,
                                                  rmsDeltaP: $0.rmsDeltaP, sameTop: $0.sameTop) }, "per_chunk")
            }
        }

        /// llama-perplexity's closing statistics, with Assay's signature.
        static func text(_ s: DriftSummary, signature: String, complete: Bool) -> String {
            func f(_ v: Double) -> String { String(format: "%10.6f", v) }
            func pct(_ v: Double) -> String { String(format: "%6.3f%%", 100 * v) }
            var lines = [
                "====== Perplexity statistics ======",
                "Mean PPL(Q)                   : \(f(s.pplCandidate)) ± \(f(s.pplCandidateStderr))",
                "Mean PPL(base)                : \(f(s.pplBase)) ± \(f(s.pplBaseStderr))",
                "Cor(ln(PPL(Q)), ln(PPL(base))): " + (s.corLnPPL.map { String(format: "%6.2f%%", 100 * $0) } ?? "n/a"),
                "Mean ln(PPL(Q)/PPL(base))     : \(f(s.lnPPLRatio)) ± \(f(s.lnPPLRatioStderr))",
                "Mean PPL(Q)/PPL(base)         : \(f(s.pplRatio)) ± \(f(s.pplRatioStderr))",
                "Mean PPL(Q)-PPL(base)         : \(f(s.pplDifference)) ± \(f(s.pplDifferenceStderr))",
                "",
                "====== KL divergence statistics ======",
                "Mean    KLD: \(f(s.meanKLD)) ± \(f(s.meanKLDStderr))",
                "Maximum KLD: \(f(s.kldMax))",
            ]
            for (label, fraction) in [("99.9%", Float(0.999)), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.9)] {
                lines.append("\(label)   KLD: \(f(s.kldPercentiles[fraction]!))")
            }
            lines.append("Median  KLD: \(f(s.kldMedian))")
            for (label, fraction) in [("10.0%", Float(0.1)), (" 5.0%", 0.05), (" 1.0%", 0.01), (" 0.1%", 0.001)] {
                lines.append("\(label)   KLD: \(f(s.kldPercentiles[fraction]!))")
            }
            lines += ["Minimum KLD: \(f(s.kldMin))", "", "====== Token probability statistics ======",
                      String(format: "Mean    Δp: %6.3f ± %5.3f %%", 100 * s.meanDeltaP, 100 * s.meanDeltaPStderr),
                      "Maximum Δp: \(pct(s.deltaPMax))"]
            for (label, fraction) in [("99.9%", Float(0.999)), ("99.0%", 0.99), ("95.0%", 0.95), ("90.0%", 0.9), ("75.0%", 0.75)] {
                lines.append("\(label)   Δp: \(pct(s.deltaPPercentiles[fraction]!))")
            }
            lines.append("Median  Δp: \(pct(s.deltaPMedian))")
            for (label, fraction) in [("25.0%", Float(0.25)), ("10.0%", 0.1), (" 5.0%", 0.05), (" 1.0%", 0.01), (" 0.1%", 0.001)] {
                lines.append("\(label)   Δp: \(pct(s.deltaPPercentiles[fraction]!))")
            }
            lines += ["Minimum Δp: \(pct(s.deltaPMin))",
                      String(format: "RMS Δp    : %6.3f ± %5.3f %%", 100 * s.rmsDeltaP, 100 * s.rmsDeltaPStderr),
                      String(format: "Same top p: %6.3f ± %5.3f %%", 100 * s.sameTop, 100 * s.sameTopStderr),
                      "", "\(s.tokens) tokens" + (complete ? "" : " [PARTIAL: interrupted]") + "; \(signature)"]
            return lines.joined(separator: "\n")
        }
    }
}
