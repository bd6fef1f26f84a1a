import ArgumentParser
import AssayEvaluators
import AssayMetrics
import AssayModels
import Foundation

extension AssayCommand {
    /// `assay perplexity`: llama-perplexity's chunked perplexity.
    struct Perplexity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perplexity of a text, exactly as llama.cpp's llama-perplexity defines it (mode: chunked).",
            discussion: """
                The file is read as `llama-perplexity -f` reads it (all bytes, one trailing newline dropped) \
                and tokenized once (BOS first when the vocabulary adds it); it is cut into chunks of \
                --context tokens; in each chunk the first token becomes BOS when the vocabulary adds BOS, \
                and only the second half predicts. PPL = exp(mean NLL), ± = sqrt(var(NLL)/(N−1))·PPL.

                Examples:
                  assay perplexity model.gguf wiki.test.raw --context 512
                  assay perplexity model.gguf wiki.test.raw --context 128 --chunks 4 --format json
                """)

        @Argument(help: ArgumentHelp("A Llama-family .gguf file.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("Text file.", valueName: "text"))
        var text: String

        @Option(name: .long, help: "Tokens per chunk (llama-perplexity -c).")
        var context: Int = 512

        @Option(name: .long, help: "Evaluate at most this many chunks (0: all).")
        var chunks: Int = 0

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            guard context >= 4 else { throw ValidationError("--context must be at least 4") }
            guard chunks >= 0 else { throw ValidationError("--chunks must be 0 (all) or more") }
        }

        func run() async throws {
            let url = URL(fileURLWithPath: model)
            let contents = try Tokenize.readLikePerplexity(text)
            let progress = TerminalProgress()
            let result = try ChunkedPerplexity.run(modelAt: url, text: contents, context: context, maxChunks: chunks) { done, total in
                progress.update(evaluation: "perplexity", completed: done, total: total, detail: "chunks")
            }
            let hash = (try? SHA256.hex(fileAt: url)).map { String($0.prefix(12)) } ?? "?"
            let signature = ChunkedPerplexity.signature(result, modelHash: hash, version: AssayVersion.current)
            let ppl = result.accumulator.perplexity ?? .nan, stderr = result.accumulator.standardError ?? .nan
            if format == .json {
                try JSONOutput.print(["perplexity": ppl, "stderr": stderr, "tokens_scored": result.accumulator.count,
                                      "chunks": result.chunks, "context": context, "signature": signature])
            } else {
                print(String(format: "PPL = %.4f +/- %.5f", ppl, stderr) + " (\(result.accumulator.count) tokens, \(result.chunks) chunks of \(context); \(signature))")
            }
        }
    }
}
