import AssayCheckpoint
import AssayCore
import AssayTensor
import AssayTestSupport
import Foundation
import Testing

/// SmolLM2-135M-Instruct Q4_1 (fetched by scripts/fetch-models.sh): the reader accepts the real
/// file, and dequantized tensors are bit-identical to gguf-py's (SHA-256 of the f32 bytes of up to
/// the first 2^20 values, from
/// scripts/goldens/smollm2_dequant_goldens.py).
struct RealModelTests {
    struct Golden: Decodable {
        struct Tensor: Decodable { var type: String; var elements: Int; var hashed_elements: Int; var sha256_f32: String }
        var file_sha256: String
        var tensor_count: Int
        var tensors: [String: Tensor]
    }

    static func modelURL() throws -> URL { try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") }

    @Test func smolLM2DequantizesLikeGGUFPy() throws {
        let url = try Self.modelURL()
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: try #require(Bundle.module.url(forResource: "Golden/smollm2", withExtension: "json"))))
        let file = try GGUFFile(contentsOf: url)
        #expect(file.tensors.count == golden.tensor_count)
        #expect(file.value("general.architecture")?.string == "llama")
        #expect(file.value("tokenizer.ggml.pre")?.string == "smollm")
        #expect(file.value("tokenizer.ggml.tokens")?.array?.count == 49152)
        for (name, expected) in golden.tensors {
            let tensor = try #require(file.tensor(name))
            #expect(tensor.type.description == expected.type && tensor.elementCount == expected.elements)
            let values = try file.floats(tensor)
            let bytes = values.prefix(expected.hashed_elements).withUnsafeBytes { Data($0) }
            #expect(SHA256.hex(bytes) == expected.sha256_f32, "\(name)")
        }
    }
}
