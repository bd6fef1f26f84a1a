import ArgumentParser
import AssayCheckpoint
import AssayTensor
import Foundation

extension AssayCommand {
    /// `assay quantize`: requantize a GGUF file as llama-quantize does.
    struct Quantize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Requantize a GGUF model to Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F16 or F32, byte for byte as llama-quantize.",
            discussion: """
                Every 2-D weight (and 3-D: a mixture's stacked experts) is dequantized to f32 and \
                quantized with ggml's reference quantizers (what llama-quantize does without an importance \
                matrix; the bytes are identical). Norms, other vectors and the experts' router \
                (ffn_gate_inp) stay as they are. As llama-quantize, the output matrix (the token \
                embedding when the output is tied to it) becomes Q6_K — Q8_0 when its rows do not hold \
                whole 256-blocks — unless --pure; rows that do not hold whole blocks of the target fall \
                back (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0). q4_k_m and q5_k_m are llama.cpp's mixes \
                (attn_v and ffn_down in the first and last eighth of the layers and every third \
                between get Q6_K), q4_k_s and q5_k_s theirs. f16 and f32 write every weight \
                dequantized (a full-precision copy to compare quantized ones against, as \
                suites/examples/quantization-gate.yaml does). The file is written to a temporary name and renamed, so \
                an interrupted run leaves nothing behind.

                Examples:
                  assay quantize model-f16.gguf --type q4_0 --out model-q4_0.gguf
                  assay quantize model-f16.gguf --type q4_k_m --out model-q4_k_m.gguf
                  assay quantize model-f16.gguf --type q4_k --pure --out model-q4_k.gguf
                  assay quantize model-f16.gguf --type q8_0 --keep token_embd --out model-q8_0.gguf
                """)

        @Argument(help: ArgumentHelp("The GGUF model to requantize.", valueName: "model"))
        var model: String

        @Option(name: .long, help: ArgumentHelp("Target type: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, f16, f32, or a K mix: q4_k_s, q4_k_m, q5_k_s, q5_k_m.", valueName: "type"))
        var type: String

        @Option(name: [.short, .long], help: ArgumentHelp("Where to write the new GGUF file.", valueName: "file"))
        var out: String

        @Flag(name: .long, help: "Every weight gets --type where its rows allow (no special type for the output matrix).")
        var pure = false

        @Option(name: .long, help: ArgumentHelp("Copy tensors whose name contains this unchanged (repeatable): token_embd, output, attn_v, …", valueName: "name"))
        var keep: [String] = []

        var target: GGMLType? { GGUFQuantization.targetTypes.first { $0.description.lowercased() == type.lowercased() } }
        var mix: GGUFQuantization.Mix? { GGUFQuantization.Mix(rawValue: type.lowercased()) }

        func validate() throws {
            guard target != nil || mix != nil else {
                let names = GGUFQuantization.targetTypes.map { $0.description.lowercased() } + GGUFQuantization.Mix.allCases.map(\.rawValue)
                throw ValidationError("unknown --type '\(type)' (choose from \(names.joined(separator: ", ")))")
            }
            if mix != nil, pure { throw ValidationError("--pure and a mix (\(type)) contradict each other; use q4_k or q5_k with --pure") }
            guard URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: model).standardizedFileURL else {
                throw ValidationError("--out must differ from the input file")
            }
        }

        func run() async throws {
            let file = try GGUFFile(contentsOf: URL(fileURLWithPath: model))
            if let mix, let reason = GGUFQuantization.mixUnsupportedReason(file) {
                throw CommandError(message: "\(model): \(mix.rawValue) follows llama-quantize's rules for dense models, and \(reason)",
                                   hint: "use a plain type (--type \(mix.baseType.description.lowercased())), or llama-quantize for its mix")
            }
            let quantization = mix.map { GGUFQuantization(mix: $0, keep: keep) } ?? GGUFQuantization(type: target!, pure: pure, keep: keep)
            let progress = TerminalProgress()
            let started = Date()
            try quantization.write(file, to: URL(fileURLWithPath: out)) { done, total in
                progress.update(evaluation: "quantize", completed: done, total: total, detail: "tensors")
            }
            var counts: [String: Int] = [:]
            for (_, type) in quantization.plan(file) { counts[type.description, default: 0] += 1 }
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            Terminal.output("wrote \(out): \(String(format: "%.1f", Double(size) / 1_048_576)) MiB, tensors "
                  + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                  + String(format: " (%.1f s)", Date().timeIntervalSince(started)))
        }
    }
}
