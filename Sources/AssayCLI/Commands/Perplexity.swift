import ArgumentParser
import AssayCore
import AssayEvaluators
import AssayMetrics
import AssayModels
import AssayProcedures
import Foundation

extension AssayCommand {
    /// `assay perplexity`: llama-perplexity's chunked perplexity or lm-eval's rolling perplexity.
    struct Perplexity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perplexity of a text under a model: llama-perplexity's (chunked) or lm-evaluation-harness's (rolling).",
            discussion: """
                --mode chunked (default) is llama.cpp's llama-perplexity: the file is read as \
                `llama-perplexity -f` reads it (all bytes, one trailing newline dropped) and tokenized once; \
                it is cut into chunks of --context tokens; in each chunk the first token becomes BOS when \
                the vocabulary adds BOS, and only the second half predicts. PPL = exp(mean NLL), \
                ± = sqrt(var(NLL)/(N−1))·PPL.

                --mode rolling is lm-evaluation-harness's loglikelihood_rolling, per document (--split: \
                file, paragraphs separated by blank lines, lines, or jsonl with --field): every token of \
                a document is predicted once, in windows of --context tokens (the first window starts \
                from the BOS token, or EOS when there is none, or --prefix-token); it reports token, word and byte \
                perplexity and bits per byte as lm-eval's wikitext task does (words = whitespace split \
                of the document).

                With --endpoint, the model is served (its name as the first argument): the server's own \
                prompt log-probabilities are scored (OpenAI's echo + logprobs, as lm-eval's \
                local-completions asks) after a probe that names what a server lacks. vLLM works (rolling \
                mode needs --prefix-token when the served tokenizer adds no BOS: its BOS and EOS ids are \
                not served); llama-cpp-python only when every prompt begins with BOS (its values are \
                shifted otherwise; start it with --kv_overrides tokenizer.ggml.add_bos_token=bool:true) \
                and in chunked mode.

                Progress (tokens/s, ETA) goes to stderr; Ctrl-C stops after the current chunk and prints \
                the partial result, marked as partial (exit code 130).

                Examples:
                  assay perplexity model.gguf wiki.test.raw --context 512
                  assay perplexity model.gguf wiki.test.raw --context 128 --chunks 4 --format json
                  assay perplexity model.gguf wiki.test.raw --mode rolling --split paragraphs --context 1024
                  assay perplexity my-model wiki.test.raw --endpoint http://127.0.0.1:8000/v1 --context 512 --chunks 20
                  assay perplexity my-model wiki.test.raw --endpoint http://127.0.0.1:8000/v1 --mode rolling --prefix-token 1
                """)

        enum Mode: String, ExpressibleByArgument, CaseIterable { case chunked, rolling }

        @Argument(help: ArgumentHelp("A Llama-family model (llama, mistral, mixtral, qwen2, qwen3, qwen2moe, qwen3moe, phi3, gemma, gemma2, gemma3, deepseek2): a .gguf file or a Hugging Face directory with config.json, *.safetensors and tokenizer.json; with --endpoint, the served model's name.", valueName: "model"))
        var model: String

        @Option(name: .long, help: ArgumentHelp("Score a served model: the base URL of its server's OpenAI API, ending in /v1 (API key: $OPENAI_API_KEY).", valueName: "url"))
        var endpoint: String?

        @Argument(help: ArgumentHelp("Text file (UTF-8).", valueName: "text"))
        var text: String

        @Option(name: .long, help: "chunked (llama-perplexity) or rolling (lm-evaluation-harness).")
        var mode: Mode = .chunked

        @Option(name: .long, parsing: .unconditional, help: "Tokens per chunk (llama-perplexity -c) or per rolling window (lm-eval max_length).")
        var context: Int = 512

        @Option(name: .long, parsing: .unconditional, help: "chunked: evaluate at most this many chunks (0: all).")
        var chunks: Int = 0

        @Option(name: .long, help: "rolling: how documents are cut: file, paragraphs, lines or jsonl.")
        var split: SplitKind = .file

        @Option(name: .long, help: "rolling with --split jsonl: the field holding the text.")
        var field: String = "text"

        @Option(name: .long, parsing: .unconditional, help: "rolling: tokens predicted per window after the first (default: --context, as lm-eval).")
        var stride: Int?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("rolling: the token id each document's first window starts from (lm-eval's custom_prefix_token_id; default: the tokenizer's BOS, or EOS when it has none).", valueName: "id"))
        var prefixToken: Int?

        @Option(name: .long, help: ArgumentHelp("exact (default: f32 activations against the weights as stored) or ggml (round as llama.cpp's CPU kernels do: activations to the weights' Q8 blocks, KV cache in f16).", valueName: "numerics"))
        var numerics: LlamaModel.Numerics?
        @Option(name: .long, help: cacheTypeHelp)
        var cacheType: LlamaModel.CacheType?

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var threadOptions: ThreadOptions

        func validate() throws {
            guard context >= 4 else { throw ValidationError("--context must be at least 4") }
            guard chunks >= 0 else { throw ValidationError("--chunks must be 0 (all) or more") }
            if let stride, stride < 1 || stride > context { throw ValidationError("--stride must be between 1 and --context") }
            if mode == .chunked, stride != nil || split != .file || prefixToken != nil {
                throw ValidationError("--split, --stride and --prefix-token apply to --mode rolling")
            }
            if let prefixToken, prefixToken < 0 { throw ValidationError("--prefix-token must be a token id (0 or more)") }
            if endpoint != nil, numerics != nil || cacheType != nil {
                throw ValidationError("--numerics and --cache-type apply to a model run in-process; a served model computes as its server does")
            }
            if mode == .rolling, chunks != 0 { throw ValidationError("--chunks applies to --mode chunked (rolling mode scores whole documents: --split chooses them)") }
        }

        func run() async throws {
            threadOptions.apply()
            let textURL = URL(fileURLWithPath: text)
            let runMode: PerplexityMode = mode == .chunked
                ? .chunked(maxChunks: chunks) : .rolling(split: split.split(field: field), stride: stride, prefix: prefixToken)
            let progress = TerminalProgress()
            let context = self.context
            let backend: any LanguageModelBackend, hash: String
            var retries: RetryLog?
            if let endpoint {
                guard let base = URL(string: endpoint), base.scheme == "http" || base.scheme == "https" else {
                    throw ValidationError("--endpoint must be an http:// or https:// URL ending in /v1")
                }
                _ = Redaction.url(base)  // registers credentials in the URL, so echoes of them are masked too
                let server = OpenAIServer(baseURL: base, model: model)
                try await server.checkModel()
                (backend, hash, retries) = (OpenAIBackend(server: server), "served:\(model)", server.retries)
            } else {
                let url = URL(fileURLWithPath: model)
                hash = (try? SHA256.hex(modelAt: url)).map { String($0.prefix(12)) } ?? "?"
                backend = try InProcessBackend(modelAt: url, numerics: numerics ?? .exact, cacheType: cacheType)
            }
            let interrupt = InterruptHandler()
            let task = Task {
                try await PerplexityRunner.run(model: backend, textAt: textURL, context: context, mode: runMode, modelHash: hash, progress: { done, total in
                    progress.update(evaluation: "perplexity", completed: done, total: total, detail: "tokens")
                })
            }
            interrupt.onInterrupt { task.cancel() }
            let report: PerplexityReport
            do {
                report = try await task.value
            } catch is CancellationError where task.isCancelled {
                // Stopped before a chunk was scored (a served model's first requests): exit 130 as
                // for a partial result, not "CancellationError error 1" with exit 2 (found by probing, 2026-12-07).
                interrupt.cancel()
                Terminal.error("interrupted before any chunk was scored\n")
                throw ExitCode(130)
            }
            interrupt.cancel()
            if let summary = retries?.summary { Terminal.error("note: \(summary)\n") }
            if format == .json {
                try JSONOutput.print(WithPeakRSS(report), pretty: false)
            } else {
                var line = String(format: "PPL = %.4f +/- %.5f", report.perplexity ?? .nan, report.stderr ?? .nan)
                if report.mode == "rolling" {
                    line += String(format: "; word PPL = %.4f, byte PPL = %.6f, bits/byte = %.6f",
                                   report.wordPerplexity ?? .nan, report.bytePerplexity ?? .nan, report.bitsPerByte ?? .nan)
                    line += " (\(report.tokensScored) tokens, \(report.documents ?? 0) documents, \(report.chunks) windows of ≤ \(context))"
                } else {
                    line += " (\(report.tokensScored) tokens, \(report.chunks) chunks of \(context))"
                }
                Terminal.output(line + (report.complete ? "" : " [PARTIAL: interrupted]") + "; \(report.signature)")
                if let rate = report.prefillTokensPerSecond {
                    Terminal.error(String(format: "%d tokens through the model in %.2f s: %.1f tokens/s; peak RSS %.0f MiB\n", report.tokensProcessed,
                                          report.evalSeconds, rate, Double(ProcessStats.peakResidentBytes) / 1_048_576))
                }
            }
            if !report.complete { throw ExitCode(130) }
        }
    }
}
