import AssayCheckpoint
import AssayModels
import AssayProcedures
import AssayTensor
import AssayTestSupport
import Foundation
import Testing

/// `assay drift` on a DeepSeek-V3-shaped model against llama.cpp's `--kl-divergence` statistics:
/// a 256-wide model (latent attention with YaRN, a dense first layer, a mixture of 4 sigmoid-routed
/// experts in 2 groups with a router bias and a shared expert) written here with random weights,
/// its Q4_K_M copy written by llama.cpp's own quantizer, both evaluated by llama.cpp
/// (scripts/goldens/llama_kld_goldens.py, llama-cpp-python) and by Assay on the same tokens.
struct DeepSeekDriftTests {
    /// The GGUF: tiny-deepseek3's metadata (vocabulary, YaRN, router settings) at 256 wide.
    static func writeModel(to url: URL) throws {
        let tiny = try GGUFFile(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-deepseek3.gguf"))
        var writer = GGUFWriter(metadata: tiny.metadata)
        let e = 256, ff = 256, qLora = 256, kvLora = 256, nope = 32, rope = 16, value = 32, heads = 4, experts = 4, vocabulary = 272
        for (key, number) in [("embedding_length", e), ("feed_forward_length", ff), ("expert_feed_forward_length", ff),
                              ("attention.q_lora_rank", qLora), ("attention.kv_lora_rank", kvLora), ("attention.key_length", kvLora + rope),
                              ("attention.value_length", kvLora), ("attention.key_length_mla", nope + rope), ("attention.value_length_mla", value),
                              ("rope.dimension_count", rope)] {
            writer.set("deepseek2." + key, .uint32(UInt32(number)))
        }
        var generator = SplitMix(seed: 20261204)
        func tensor(_ name: String, _ dimensions: [Int], scale: Float = 0.08, offset: Float = 0, f32: Bool = false) -> GGUFWriter.Tensor {
            let values = (0..<dimensions.reduce(1, *)).map { _ in offset + scale * generator.normal() }
            let bytes = f32 ? values.withUnsafeBytes { Array($0) } : values.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
            return GGUFWriter.Tensor(name: name, dimensions: dimensions, type: f32 ? .f32 : .f16, bytes: bytes)
        }
        var tensors = [tensor("token_embd.weight", [e, vocabulary], scale: 1), tensor("output.weight", [e, vocabulary]),
                       tensor("output_norm.weight", [e], scale: 0.1, offset: 1, f32: true)]
        for i in 0..<2 {
            let p = "blk.\(i)."
            tensors += [tensor(p + "attn_norm.weight", [e], scale: 0.1, offset: 1, f32: true), tensor(p + "attn_q_a.weight", [e, qLora]),
                        tensor(p + "attn_q_a_norm.weight", [qLora], scale: 0.1, offset: 1, f32: true),
                        tensor(p + "attn_q_b.weight", [qLora, heads * (nope + rope)]), tensor(p + "attn_kv_a_mqa.weight", [e, kvLora + rope]),
                        tensor(p + "attn_kv_a_norm.weight", [kvLora], scale: 0.1, offset: 1, f32: true),
                        tensor(p + "attn_k_b.weight", [nope, kvLora, heads]), tensor(p + "attn_v_b.weight", [kvLora, value, heads]),
                        tensor(p + "attn_output.weight", [heads * value, e]), tensor(p + "ffn_norm.weight", [e], scale: 0.1, offset: 1, f32: true)]
            if i == 0 {
                tensors += [tensor(p + "ffn_gate.weight", [e, ff]), tensor(p + "ffn_up.weight", [e, ff]), tensor(p + "ffn_down.weight", [ff, e])]
            } else {
                tensors += [tensor(p + "ffn_gate_inp.weight", [e, experts], f32: true), tensor(p + "exp_probs_b.bias", [experts], scale: 0.2, f32: true),
                            tensor(p + "ffn_gate_exps.weight", [e, ff, experts]), tensor(p + "ffn_up_exps.weight", [e, ff, experts]),
                            tensor(p + "ffn_down_exps.weight", [ff, e, experts]), tensor(p + "ffn_gate_shexp.weight", [e, ff]),
                            tensor(p + "ffn_up_shexp.weight", [e, ff]), tensor(p + "ffn_down_shexp.weight", [ff, e])]
            }
        }
        writer.tensors = tensors
        try writer.write(to: url)
    }

    struct Golden: Decodable {
        struct Stats: Decodable { var mean_kld: Double, ln_ppl_ratio: Double, same_top_p: Double, tokens_scored: Int }
        var llama_cpp: Stats
    }

    @Test func meanKLDWithinTwoPercentOfLlamaCpp() async throws {
        let python = try TestEnvironment.serverPython()
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = directory.appendingPathComponent("deepseek3-256.gguf"), candidate = directory.appendingPathComponent("deepseek3-256-q4_k_m.gguf")
        try Self.writeModel(to: base)
        let excerpt = directory.appendingPathComponent("text.txt")
        try Data(contentsOf: text).prefix(6000).write(to: excerpt)
        // llama.cpp's quantizer writes the Q4_K_M copy, then llama.cpp evaluates both.
        let quantize = """
            import ctypes, sys, llama_cpp
            p = llama_cpp.llama_model_quantize_default_params()
            p.ftype, p.nthread = 15, 1  # LLAMA_FTYPE_MOSTLY_Q4_K_M
            sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
            """
        _ = try ServedScoringTests.runPython(python, ["-c", quantize, base.path, candidate.path])
        let output = directory.appendingPathComponent("golden.json")
        _ = try ServedScoringTests.runPython(python, [TestEnvironment.root.appendingPathComponent("scripts/goldens/llama_kld_goldens.py").path,
                                                      "--base", base.path, "--candidate", candidate.path, "--text", excerpt.path,
                                                      "--ctx", "128", "--chunks", "8", "--threads", "1", "--out", output.path])
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: output)).llama_cpp

        let reference = try InProcessBackend(modelAt: base, numerics: .ggml)
        let (result, _) = try await DriftRunner.run(reference: reference, candidate: try reference.candidate(file: candidate, quantization: nil, numerics: .ggml),
                                                    textAt: excerpt, context: 128, maxChunks: 8)
        let s = try #require(result.accumulator.summary)
        print("DeepSeek-V3 shape, Q4_K_M: KLD \(s.meanKLD) vs llama.cpp \(golden.mean_kld), ln ratio \(s.lnPPLRatio) vs \(golden.ln_ppl_ratio), same top \(s.sameTop) vs \(golden.same_top_p)")
        #expect(s.tokens == golden.tokens_scored)
        #expect(abs(s.meanKLD / golden.mean_kld - 1) < 0.02)
        #expect(abs(s.sameTop - golden.same_top_p) < 0.02)
    }
}

/// A small deterministic generator (SplitMix64) with normal draws (Box–Muller).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func normal() -> Float {
        let u = max(uniform(), 1e-7), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
