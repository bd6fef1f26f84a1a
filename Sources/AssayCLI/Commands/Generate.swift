import ArgumentParser
import AssayModels
import Foundation

extension AssayCommand {
    /// `assay generate`: continue a prompt on the in-process engine.
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue a prompt on the in-process engine (Llama-family GGUF): greedy or sampled.",
            discussion: """
                The prompt — inside --template when given, at its {prompt} — is tokenized as llama.cpp \
                tokenizes it (BOS first when the vocabulary adds it; special tokens such as <|im_start|> \
                are recognised). Decoding is greedy by default (the most likely token each step, as \
                llama.cpp with --temp 0). With --temperature > 0 tokens are sampled after llama.cpp's \
                filters, in its order: top-k, top-p (on the probabilities before temperature), \
                temperature; --seed makes the draw reproducible (Assay's generator, so sampled text is \
                not llama.cpp's). Generation stops at an end-of-generation token (EOS, <|im_end|>, \
                <|endoftext|>, …), at a --stop string (the text is cut before it) or after --max-tokens.

                Examples:
                  assay generate model.gguf "The capital of France is" --max-tokens 16
                  assay generate model.gguf "Write a haiku about rain." \\
                    --template $'<|im_start|>user\\n{prompt}<|im_end|>\\n<|im_start|>assistant\\n' \\
                    --temperature 0.7 --top-p 0.9 --seed 42 --format json
                  assay generate model.gguf "1, 2, 3," --stop "10" --max-tokens 64
                """)

        @Argument(help: ArgumentHelp("A Llama-family model (llama, mistral, mixtral, qwen2, qwen3, qwen2moe, qwen3moe, phi3, gemma, gemma2, gemma3, deepseek2): a .gguf file or a Hugging Face directory with config.json, *.safetensors and tokenizer.json.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("The prompt text.", valueName: "prompt"))
        var prompt: String

        @Option(name: .long, parsing: .unconditional, help: "Generate at most this many tokens.")
        var maxTokens: Int = 64

        @Option(name: .long, parsing: .unconditional, help: "0 = greedy; above 0 samples (llama.cpp's --temp).")
        var temperature: Double = 0

        @Option(name: .long, parsing: .unconditional, help: "Sample from the k most likely tokens only (0: all).")
        var topK: Int = 0

        @Option(name: .long, parsing: .unconditional, help: "Sample from the most likely tokens whose probabilities add up to p (1: all).")
        var topP: Double = 1

        @Option(name: .long, parsing: .unconditional, help: "Seed of the sampling draw.")
        var seed: UInt64 = 0

        @Option(name: .long, help: "Stop when the text contains this string (repeatable); the text is cut before it.")
        var stop: [String] = []

        @Option(name: .long, help: "Prompt template with {prompt} where the prompt goes, e.g. a chat template.")
        var template: String?

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        @Option(name: .long, help: ArgumentHelp(
            "How the KV cache stores keys and values: f32 (default) or f16 (half the memory, llama.cpp's default; the logits move by f16 rounding).",
            valueName: "type"))
        var cacheType: LlamaModel.CacheType?

        @OptionGroup var threadOptions: ThreadOptions

        func validate() throws {
            guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
            guard !prompt.isEmpty else { throw ValidationError("the prompt is empty") }
            guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be 0 or more") }
            guard topK >= 0 else { throw ValidationError("--top-k must be 0 (off) or more") }
            guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
            if let template, !template.contains("{prompt}") { throw ValidationError("--template must contain {prompt}") }
        }

        func run() async throws {
            threadOptions.apply()
            let backend = try InProcessBackend(modelAt: URL(fileURLWithPath: model), cacheType: cacheType)
            let parameters = GenerationParameters(
                maxTokens: maxTokens, sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, seed: seed),
                stop: stop, template: template)
            let interrupt = InterruptHandler()
            let task = Task { try backend.generateNow(prompt, parameters: parameters) }
            interrupt.onInterrupt { task.cancel() }
            let generation = try await task.value
            interrupt.cancel()
            let decodeSeconds = generation.tokenSeconds.reduce(0, +)
            let seconds = generation.promptSeconds + decodeSeconds
            if format == .json {
                try JSONOutput.print(Output(promptTokens: generation.promptTokens, tokens: generation.tokens, text: generation.text,
                                            finishReason: generation.finishReason.rawValue, seconds: seconds,
                                            ttftSeconds: generation.promptSeconds, sampling: parameters.sampling.signature), pretty: false)
            } else {
                Terminal.output((template == nil ? prompt : "") + generation.text)
                let rate = generation.tokenSeconds.isEmpty ? "" : String(format: ", %.1f tokens/s after the first", Double(generation.tokenSeconds.count) / decodeSeconds)
                let why = ["eos": "end of generation", "stop": "stop string", "length": "--max-tokens reached"][generation.finishReason.rawValue]!
                Terminal.error(String(format: "%d tokens in %.2f s (first after %.2f s%@; %@)\n", generation.tokens.count, seconds,
                                      generation.promptSeconds, rate, why))
            }
        }

        /// `--format json`.
        struct Output: Encodable {
            var promptTokens, tokens: [Int]
            var text, finishReason: String
            var seconds, ttftSeconds: Double
            var sampling: String

            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens", tokens, text, finishReason = "finish_reason", seconds, ttftSeconds = "ttft_seconds",
                     sampling
            }
        }
    }
}
