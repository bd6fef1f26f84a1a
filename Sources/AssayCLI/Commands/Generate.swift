import ArgumentParser
import AssayCheckpoint
import AssayModels
import Foundation

extension AssayCommand {
    /// `assay generate`: greedy continuation of a prompt on the in-process engine.
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a prompt with greedy decoding on the in-process engine (Llama-family GGUF).",
            discussion: """
                The prompt is tokenized as llama.cpp tokenizes it (BOS first when the vocabulary adds it; \
                special tokens such as <|im_start|> are recognised, so a chat template can be written out \
                by hand). Decoding is greedy — the most likely token each step, as llama.cpp with \
                --temp 0 — and stops at the end-of-sequence token or after --max-tokens. Sampling \
                parameters and chat templates are not supported yet.

                Examples:
                  assay generate model.gguf "The capital of France is" --max-tokens 16
                  assay generate model.gguf "Once upon a time" --format json
                """)

        @Argument(help: ArgumentHelp("A Llama-family .gguf file.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("The prompt text.", valueName: "prompt"))
        var prompt: String

        @Option(name: .long, help: "Generate at most this many tokens.")
        var maxTokens: Int = 64

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
            guard !prompt.isEmpty else { throw ValidationError("the prompt is empty") }
        }

        func run() async throws {
            let url = URL(fileURLWithPath: model)
            let llama = try LlamaModel(gguf: try GGUFFile(contentsOf: url))
            let tokenizer = try CausalTokenizer(loading: url)
            let tokens = tokenizer.encode(prompt, parseSpecial: true)
            let stop = Set([tokenizer.eos].compactMap { $0 })
            let started = Date()
            let generated = llama.generateGreedy(prompt: tokens, maxTokens: maxTokens, stop: stop)
            let seconds = Date().timeIntervalSince(started)
            let stoppedAtEOS = generated.last.map(stop.contains) ?? false
            let text = tokenizer.decode(stoppedAtEOS ? Array(generated.dropLast()) : generated)
            if format == .json {
                try JSONOutput.print(["prompt_tokens": tokens, "tokens": generated, "text": text,
                                      "stop": stoppedAtEOS ? "eos" : "max_tokens", "seconds": seconds])
            } else {
                print(prompt + text)
                FileHandle.standardError.write(Data(String(format: "%d tokens in %.2f s (%@)\n", generated.count, seconds,
                                                           stoppedAtEOS ? "end of sequence" : "--max-tokens reached").utf8))
            }
        }
    }
}
