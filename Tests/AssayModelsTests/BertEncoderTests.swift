import AssayCheckpoint
import AssayModels
import AssayTensor
import AssayTestSupport
import AssayTokenizer
import Foundation
import Testing

/// The BERT-family encoder against transformers: a tiny seeded RoBERTa fixture
/// (scripts/fixtures/make_tiny_roberta.py) and the real all-MiniLM-L6-v2
/// (scripts/goldens/minilm_hidden_goldens.py).
struct BertEncoderTests {
    static func golden<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: "json"))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    struct TinyGolden: Decodable { var tokens: [Int]; var layers: [[[Double]]] }

    @Test func tinyRobertaMatchesTransformersAtEveryLayer() throws {
        let encoder = try BertEncoder(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta"))
        #expect(encoder.configuration.positionOffset == 2 && encoder.configuration.maxSequenceLength == 62)
        let goldens = try Self.golden("tiny-roberta", as: [TinyGolden].self)
        for golden in goldens {
            let states = encoder.allHiddenStates(golden.tokens)
            #expect(states.count == 3)
            for (layer, reference) in golden.layers.enumerated() {
                let error = zip(states[layer], reference.flatMap { $0 }).map { abs(Double($0) - $1) }.max()!
                #expect(error < 1e-5, "layer \(layer): max error \(error)")
            }
        }
        // Both sequences in one batch give the same rows as each alone (no cross-sequence attention).
        let batch = encoder.hiddenStates(goldens.map(\.tokens), layer: 2)
        for (i, golden) in goldens.enumerated() {
            let alone = encoder.hiddenStates([golden.tokens], layer: 2)[0]
            #expect(zip(batch[i], alone).map { abs($0 - $1) }.max()! < 1e-5)  // GEMM blocking differs with the row count
        }
    }

    struct MiniLMGolden: Decodable {
        struct Layer: Decodable { var every8: [[Double]]; var norms: [Double] }
        var text: String; var tokens: [Int]; var layers: [Layer]
    }

    @Test func miniLMMatchesTransformers() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2")
        let encoder = try BertEncoder(contentsOf: directory)
        let tokenizer = try ModelTokenizer.load(directory)
        guard case let .wordPiece(wordPiece) = tokenizer else { Issue.record("expected WordPiece"); return }
        let h = encoder.configuration.hidden
        for golden in try Self.golden("minilm-hidden", as: [MiniLMGolden].self) {
            #expect(wordPiece.encode(golden.text) == golden.tokens)
            let states = encoder.allHiddenStates(golden.tokens)
            var worst = 0.0
            for (layer, reference) in golden.layers.enumerated() {
                for (row, values) in reference.every8.enumerated() {
                    for (j, value) in values.enumerated() { worst = max(worst, abs(Double(states[layer][row * h + 8 * j]) - value)) }
                    let norm = (0..<h).map { Double(states[layer][row * h + $0]) }.map { $0 * $0 }.reduce(0, +).squareRoot()
                    worst = max(worst, abs(norm - reference.norms[row]) / max(1, reference.norms[row]))
                }
            }
            print("MiniLM '\(golden.text.prefix(20))…': max deviation \(worst)")
            #expect(worst < 1e-4)
            // Stopping at a layer gives that layer's states.
            let fourth = encoder.hiddenStates([golden.tokens], layer: 4)[0]
            #expect(zip(fourth, states[4]).map { abs($0 - $1) }.max()! < 1e-6)
        }
    }

    @Test func quantizedWeightsStayClose() throws {
        let encoder = try BertEncoder(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta"))
        let tokens = [0, 5, 17, 33, 9, 2]
        let full = encoder.hiddenStates([tokens], layer: 2)[0]
        for type in [GGMLType.q8_0, .q4_0] {
            let q = try encoder.quantized(type)
            #expect(q.weightQuantization == type)
            let states = q.hiddenStates([tokens], layer: 2)[0]
            let drift = zip(states, full).map { abs($0 - $1) }.max()!
            #expect(drift > 0 && drift < (type == .q8_0 ? 0.05 : 0.5), "\(type): \(drift)")
        }
        #expect(throws: ModelError.self) { try encoder.quantized(.q6_K) }
    }

    @Test func rejectsWhatItCannotRun() throws {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta")
        let directory = try TestEnvironment.temporaryDirectory("assay-encoder")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        func write(_ edit: (inout [String: Any]) -> Void) throws {
            var c = config
            edit(&c)
            try JSONSerialization.data(withJSONObject: c).write(to: directory.appendingPathComponent("config.json"))
        }
        try write { $0["hidden_act"] = "relu" }
        #expect(throws: ModelError.unsupportedActivation(path: directory.appendingPathComponent("config.json").path, name: "relu")) { try BertEncoder(contentsOf: directory) }
        try write { $0["model_type"] = "gpt2" }
        #expect(throws: ModelError.self) { try BertEncoder(contentsOf: directory) }
        try write { $0["num_hidden_layers"] = 3 }
        #expect(throws: ModelError.missingTensor(path: directory.path, name: "roberta.encoder.layer.2.attention.self.query.weight")) {
            try BertEncoder(contentsOf: directory)
        }
        try write { $0["num_hidden_layers"] = 1 }
        do {
            _ = try BertEncoder(contentsOf: directory)
            Issue.record("an unused layer must be an error")
        } catch let error as ModelError {
            guard case let .unusedTensors(_, names) = error else { Issue.record("\(error)"); return }
            #expect(names.allSatisfy { $0.hasPrefix("roberta.encoder.layer.1.") })
        }
        try write { $0["hidden_size"] = 48 }
        #expect(throws: ModelError.self) { try BertEncoder(contentsOf: directory) }
    }
}
