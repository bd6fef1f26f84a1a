import AssayCheckpoint
import AssayCore
import AssayTestSupport
import Foundation
import Testing

/// safetensors reading on Fixtures/safetensors (our own writer, cross-read with the `safetensors`
/// library when generated), malformed files (each also rejected by the `safetensors` library), and
/// the real all-MiniLM-L6-v2 checkpoint (hashes from safetensors.numpy.load_file).
struct SafetensorsTests {
    static let fixtures = TestEnvironment.root.appendingPathComponent("Fixtures")

    static func sha(_ values: [Float]) -> String { values.withUnsafeBytes { SHA256.hex(Data($0)) } }

    @Test func singleFileWithConfig() throws {
        let checkpoint = try SafetensorsCheckpoint(contentsOf: Self.fixtures.appendingPathComponent("safetensors/single"))
        #expect(try checkpoint.config.strings("architectures") == ["BertModel"])
        #expect(try checkpoint.config.integer("hidden_size") == 8)
        #expect(try checkpoint.config.number("layer_norm_eps") == 1e-12)
        #expect(try checkpoint.config.bool("tie_word_embeddings") == true)
        #expect(try checkpoint.config.integer("absent") == nil)
        // Present but of another kind: an error naming the key and the value, never "absent".
        #expect(throws: CheckpointError.invalidHeader(path: checkpoint.config.url.path, message: "'tie_word_embeddings' is true; expected a whole number")) {
            try checkpoint.config.integer("tie_word_embeddings")
        }
        #expect(throws: CheckpointError.invalidHeader(path: checkpoint.config.url.path, message: "'layer_norm_eps' is 1e-12; expected a whole number")) {
            try checkpoint.config.integer("layer_norm_eps")
        }
        #expect(throws: CheckpointError.self) { try checkpoint.config.requireInteger("vocab_size") }
        let file = try #require(checkpoint.files.first)
        #expect(file.metadata == ["format": "pt"])
        #expect(file.tensors.map(\.name) == ["weight", "half", "bfloat", "ids"])
        #expect(file.tensor("weight")?.shape == [4, 8])
        #expect(Self.sha(try file.floats(file.tensor("weight")!)) == "fcdd4f9b08eb89a6174f607643efe4d79c103a75a5dc4bea82452d780616575a")
        #expect(Self.sha(try file.floats(file.tensor("half")!)) == "8cfa7281e18f7d688e407d6f7005e34e1d01abf38e7a45fd62f930cfc8864186")
        #expect(try file.floats(file.tensor("bfloat")!).map(\.bitPattern) == [0x3EB1_0000, 0x3E7D_0000, 0x3F8C_0000])
        #expect(throws: CheckpointError.self) { try file.floats(file.tensor("ids")!) }
    }

    @Test func shardedIndex() throws {
        let checkpoint = try SafetensorsCheckpoint(contentsOf: Self.fixtures.appendingPathComponent("safetensors/sharded"))
        #expect(checkpoint.files.count == 2)
        #expect(checkpoint.tensor("b.weight")?.file.url.lastPathComponent == "model-00002-of-00002.safetensors")
        #expect(checkpoint.tensors.count == 2)
    }

    @Test(arguments: [
        ("huge-header", "the JSON header size is 1099511627776"),
        ("truncated-header", "truncated at byte 8 while reading the JSON header"),
        ("not-json", "the header is not a JSON object"),
        ("unknown-dtype", "tensor 't' has unsupported dtype 'F4'"),
        ("shape-mismatch", "5 F32 elements need 20 bytes, data_offsets give 16"),
        ("data-beyond-eof", "tensor 't' data at bytes"),
        ("overlapping", "tensors 'a' and 'b' overlap"),
        ("hole", "bytes 16..<24 of the data belong to no tensor (before 'b')"),
    ])
    func malformedFiles(_ name: String, _ message: String) throws {
        let url = Self.fixtures.appendingPathComponent("malformed/\(name).safetensors")
        do {
            _ = try SafetensorsFile(contentsOf: url)
            Issue.record("\(name) accepted")
        } catch let error as CheckpointError {
            #expect(error.errorDescription?.hasPrefix(url.path) == true)
            #expect(error.errorDescription?.contains(message) == true, "\(name): \(error.errorDescription ?? "")")
        }
    }

    @Test func realMiniLM() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2/model.safetensors").deletingLastPathComponent()
        let checkpoint = try SafetensorsCheckpoint(contentsOf: directory)
        #expect(checkpoint.tensors.count == 104)
        #expect(try checkpoint.config.integer("hidden_size") == 384)
        #expect(try checkpoint.config.integer("num_hidden_layers") == 6)
        for (name, shape, hash) in [
            ("embeddings.word_embeddings.weight", [30522, 384], "8cb7566079677d652880139ef4db28890c9fe83426c4de197dd74651ac5bf377"),
            ("encoder.layer.0.attention.self.query.weight", [384, 384], "37cd347d0b4299ae014caff80bbd196d9f597b14548b26027f800e300128486c"),
            ("encoder.layer.5.output.LayerNorm.bias", [384], "24c1f27ffd1eb4e5be7e3a2909943e6f0980635d761fa1efdd0c19645da23766"),
        ] {
            let (file, tensor) = try #require(checkpoint.tensor(name))
            #expect(tensor.shape == shape)
            #expect(Self.sha(Array(try file.floats(tensor).prefix(1 << 20))) == hash, "\(name)")
        }
    }
}
