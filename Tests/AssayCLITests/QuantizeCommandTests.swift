import AssayCheckpoint
import AssayTestSupport
import Foundation
import Testing

/// `assay quantize` end to end: the file loads in Assay; bad arguments are refused.
struct QuantizeCommandTests {
    /// llama.cpp's K mixes have their own rules for mixtures of experts, fused QKV and latent
    /// attention: refused for those models, plain types written.
    @Test func mixesAreRefusedWhereLlamaQuantizeHasOtherRules() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = TestEnvironment.root.appendingPathComponent("Fixtures/models")
        for (name, reason) in [("tiny-mixtral", "mixture of experts"), ("tiny-phi3", "fused QKV"), ("tiny-deepseek3", "mixture of experts")] {
            let out = directory.appendingPathComponent("\(name).gguf").path
            let mix = try AssayProcess.run(["quantize", models.appendingPathComponent("\(name).gguf").path, "--type", "q4_k_m", "--out", out])
            #expect(mix.status == 2 && mix.stderr.contains(reason) && !FileManager.default.fileExists(atPath: out), "\(name): \(mix.stderr)")
            let plain = try AssayProcess.run(["quantize", models.appendingPathComponent("\(name).gguf").path, "--type", "q8_0", "--out", out])
            #expect(plain.status == 0, "\(name): \(plain.stderr)")
        }
    }

    @Test func writesALoadableFileAndRefusesBadArguments() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("q8.gguf").path
        let result = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", out])
        #expect(result.status == 0 && result.stdout.contains("tensors 61 F32, 211 Q8_0"), "\(result.stdout)\(result.stderr)")
        let inspect = try AssayProcess.run(["inspect", out, "--format", "json"])
        #expect(inspect.status == 0 && inspect.stdout.contains("\"Q8_0\":134479872"), "\(inspect.stdout)")
        let generate = try AssayProcess.run(["generate", out, "The capital of France is", "--max-tokens", "4"])
        #expect(generate.status == 0 && !generate.stdout.isEmpty, "\(generate.stderr)")

        // A full-precision copy: every weight dequantized to f32 (the values llama.cpp reads from the Q4_1 file).
        let full = directory.appendingPathComponent("f32.gguf").path
        let f32 = try AssayProcess.run(["quantize", model.path, "--type", "f32", "--out", full])
        #expect(f32.status == 0 && f32.stdout.contains("tensors 272 F32"), "\(f32.stdout)\(f32.stderr)")
        let source = try GGUFFile(contentsOf: model), copy = try GGUFFile(contentsOf: URL(fileURLWithPath: full))
        for name in ["blk.0.attn_q.weight", "token_embd.weight"] {
            let a = try #require(source.tensors.first { $0.name == name }), b = try #require(copy.tensors.first { $0.name == name })
            let original = try source.floats(a), copied = try copy.floats(b)
            #expect(b.type == .f32 && b.dimensions == a.dimensions && copied == original)
        }
        let badType = try AssayProcess.run(["quantize", model.path, "--type", "q3_x", "--out", out])
        #expect(badType.status == 64 && badType.stderr.contains("unknown --type 'q3_x'"))
        let same = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", model.path])
        #expect(same.status == 64)
        let blocked = directory.appendingPathComponent("file")
        try Data().write(to: blocked)
        let unwritable = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", blocked.appendingPathComponent("x.gguf").path])
        #expect(unwritable.status == 2 && unwritable.stderr.contains("cannot write"), "\(unwritable.stderr)")
    }
}
