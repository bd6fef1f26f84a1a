import AssayCheckpoint
import AssayCore
import AssayTensor
import AssayTestSupport
import Foundation
import Testing

/// Assay's quantizer against llama.cpp's (`llama_model_quantize`, scripts/goldens/quantize_goldens.py):
/// SmolLM2's Q4_1 tensors, dequantized as llama.cpp does before requantizing, must quantize to the
/// same bytes for every type.
struct QuantizerGoldenTests {
    struct Entry: Decodable { var type: String; var sha256: String }

    @Test(arguments: ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"])
    func bytesEqualLlamaQuantize(type name: String) throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let url = try #require(Bundle.module.url(forResource: "Golden/llama-quantize", withExtension: "json"))
        let golden = try JSONDecoder().decode([String: [String: Entry]].self, from: Data(contentsOf: url))
        let type = try #require(GGMLType.allCases.first { $0.description == name })
        let file = try GGUFFile(contentsOf: model)
        var compared = 0
        for (tensor, entry) in try #require(golden[name]).sorted(by: { $0.key < $1.key }) where entry.type == name {
            let info = try #require(file.tensor(tensor))
            guard info.type == .q4_1 else { continue }  // norms stay f32
            let bytes = Quantizer.quantize(try file.floats(info), as: type)
            #expect(SHA256.hex(Data(bytes)) == entry.sha256, "\(name) \(tensor)")
            compared += 1
        }
        #expect(compared >= 2, "\(name): only \(compared) tensors of the type")
    }
}

/// The GGUF writer and `GGUFQuantization`'s type plan.
struct GGUFWriterTests {
    @Test func roundTripsMetadataAndTensors() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var writer = GGUFWriter(metadata: [
            ("general.architecture", .string("llama")), ("u8", .uint8(7)), ("i16", .int16(-3)), ("u32", .uint32(9)),
            ("f32", .float32(0.5)), ("flag", .bool(true)), ("u64", .uint64(1 << 40)), ("i64", .int64(-5)), ("f64", .float64(2.25)),
            ("names", .array([.string("a"), .string("bc")])), ("ints", .array([.int32(1), .int32(-2)])),
        ])
        writer.set("u32", .uint32(10))
        let values = (0..<64).map { Float($0) / 8 - 4 }
        writer.tensors = [
            .init(name: "v", dimensions: [3], type: .f32, bytes: [Float(1), 2, 3].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }),
            .init(name: "w", dimensions: [32, 2], type: .q8_0, bytes: Quantizer.quantize(values, as: .q8_0)),
        ]
        let url = directory.appendingPathComponent("sub/out.gguf")
        try writer.write(to: url)
        let file = try GGUFFile(contentsOf: url)
        #expect(file.metadata.map(\.key) == writer.metadata.map(\.key))
        #expect(zip(file.metadata, writer.metadata).allSatisfy { $0.value == $1.value })
        #expect(try file.floats(file.tensor("v")!) == [1, 2, 3])
        #expect(try file.floats(file.tensor("w")!) == Quantizer.roundTrip(values, as: .q8_0))
        #expect(file.tensor("w")!.dimensions == [32, 2] && file.tensor("w")!.offset % 32 == 0)
        // Nothing is left behind next to the file.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("sub").path) == ["out.gguf"])
    }

    @Test func planFollowsLlamaQuantize() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let file = try GGUFFile(contentsOf: model)
        func types(_ q: GGUFQuantization) -> [String: GGMLType] {
            Dictionary(uniqueKeysWithValues: q.plan(file).map { ($0.tensor.name, $0.type) })
        }
        let q4 = types(GGUFQuantization(type: .q4_0))
        #expect(q4["token_embd.weight"] == .q8_0)          // tied output, 576-wide rows: Q8_0
        #expect(q4["blk.0.attn_q.weight"] == .q4_0 && q4["blk.0.attn_norm.weight"] == .f32)
        #expect(types(GGUFQuantization(type: .q4_0, pure: true))["token_embd.weight"] == .q4_0)
        #expect(types(GGUFQuantization(type: .f16))["token_embd.weight"] == .f16)   // no output rule for F16
        let k = types(GGUFQuantization(type: .q4_K, pure: true))
        #expect(k["blk.3.ffn_down.weight"] == .q4_K && k["blk.3.ffn_up.weight"] == .q5_0)   // 1536- vs 576-wide rows
        let kept = types(GGUFQuantization(type: .q8_0, keep: ["token_embd"]))
        // Q4_K_M: ffn_down of layers 0–2, 5, 8, … and 27–29 get Q6_K (use_more_bits), attn_v too
        // (576-wide rows: Q6_K falls back to Q8_0, Q4_K to Q5_0).
        let m = types(GGUFQuantization(mix: .q4_K_M))
        #expect(m["blk.0.ffn_down.weight"] == .q6_K && m["blk.3.ffn_down.weight"] == .q4_K && m["blk.5.ffn_down.weight"] == .q6_K)
        #expect(m["blk.29.ffn_down.weight"] == .q6_K && m["blk.5.attn_v.weight"] == .q8_0 && m["blk.4.attn_v.weight"] == .q5_0)
        let q4k = types(GGUFQuantization(type: .q4_1, keep: ["token_embd", "attn_v"]))
        #expect(q4k["token_embd.weight"] == file.tensor("token_embd.weight")!.type && q4k["blk.0.attn_v.weight"] == .q4_1)
        #expect(q4k["blk.0.attn_q.weight"] == .q4_1 && kept["blk.0.attn_v.weight"] == .q8_0)
    }

    /// A mixture of experts: the stacked (3-D) expert tensors are quantized, the router
    /// (`ffn_gate_inp`) and the shared expert's gate (64 × 1: one dimension to ggml) are not.
    @Test func planKeepsTheRoutersOfMixtures() throws {
        let file = try GGUFFile(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-qwen2moe.gguf"))
        let types = Dictionary(uniqueKeysWithValues: GGUFQuantization(type: .q8_0).plan(file).map { ($0.tensor.name, $0.type) })
        #expect(types["blk.0.ffn_gate_exps.weight"] == .q8_0 && types["blk.1.ffn_down_exps.weight"] == .q8_0 && types["blk.0.ffn_up_shexp.weight"] == .q8_0)
        #expect(types["blk.0.ffn_gate_inp.weight"] == file.tensor("blk.0.ffn_gate_inp.weight")!.type)
        #expect(types["blk.0.ffn_gate_inp_shexp.weight"] == file.tensor("blk.0.ffn_gate_inp_shexp.weight")!.type)
    }
}
