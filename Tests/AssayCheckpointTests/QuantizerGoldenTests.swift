import AssayCheckpoint
import AssayEvaluators
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
        guard let model = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else { return }
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
