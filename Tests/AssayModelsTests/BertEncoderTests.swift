import AssayCheckpoint
@testable import AssayModels
@testable import AssayTensor
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
            #expect(batch[i].map(\.bitPattern) == alone.map(\.bitPattern))
        }
    }

    /// A sequence's hidden states are the same bits alone, in a batch with others at any
    /// position, with its projections split across one or two threads, and so for a quantized
    /// copy: what lets a shard or a cache stand in for embedding everything at once.
    @Test func aSequenceGivesTheSameBitsInAnyBatch() throws {
        let directory = try TestEnvironment.model("all-minilm-l6-v2")
        let full = try BertEncoder(contentsOf: directory)
        guard case let .wordPiece(tokenizer) = try ModelTokenizer.load(directory) else { Issue.record("expected WordPiece"); return }
        let texts = ["The cat sat on the mat.", "A much longer sentence, with commas, numbers like 1,234 and words the vocabulary splits.",
                     "Short.", "Encoders read every token of a batch through one product per projection."]
        let sequences = texts.map { tokenizer.encode($0) }
        // The global thread count is left alone (other suites' models run meanwhile): a workspace
        // of 2 threads splits the products across the pool as far as the pool has threads.
        for encoder in [full, try full.quantized(.q8_0)] {
            let alone = sequences.map { encoder.hiddenStates([$0], layers: [3, 6], workspace: .init(threads: 1)) }
            for threads in [1, 2] {
                for batch in [sequences, sequences.reversed(), sequences + sequences] {
                    let states = encoder.hiddenStates(batch, layers: [3, 6], workspace: .init(threads: threads))
                    for (i, tokens) in batch.enumerated() {
                        let k = sequences.firstIndex(of: tokens)!
                        for layer in [3, 6] {
                            #expect(states[layer]![i].map(\.bitPattern) == alone[k][layer]![0].map(\.bitPattern),
                                    "\(encoder.weightQuantization.map { "\($0)" } ?? "f32"), \(threads) threads, sequence \(k) at \(i), layer \(layer)")
                        }
                    }
                }
            }
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

    /// A copy of `source` (a directory with `model.safetensors`) whose float tensors are stored
    /// as `dtype` (F16, BF16 or F32) after `round` took each value's bits to that dtype's.
    static func rewrite(_ source: URL, to directory: URL, as dtype: SafetensorsFile.DType, round: (Float) -> [UInt8]) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name != "model.safetensors" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        let file = try SafetensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var header: [String: Any] = [:], data = Data()
        for tensor in file.tensors {
            let start = data.count
            for value in try file.floats(tensor) { data.append(contentsOf: round(value)) }
            header[tensor.name] = ["dtype": dtype.rawValue, "shape": tensor.shape, "data_offsets": [start, data.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: .sortedKeys)
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        try (out + json + data).write(to: directory.appendingPathComponent("model.safetensors"))
    }

    /// F16 and BF16 checkpoints are read in place — every table and projection references the
    /// mapped file, nothing is expanded at load — and compute exactly what an F32 file holding
    /// the same values computes (the panels dequantize exactly), quantized copies included.
    @Test(arguments: [SafetensorsFile.DType.f16, .bf16])
    func halfPrecisionFilesAreReadInPlace(dtype: SafetensorsFile.DType) throws {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-roberta")
        let root = try TestEnvironment.temporaryDirectory("assay-encoder-\(dtype.rawValue)")
        defer { try? FileManager.default.removeItem(at: root) }
        let half = root.appendingPathComponent("half"), wide = root.appendingPathComponent("wide")
        for d in [half, wide] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        func bits(_ value: Float) -> UInt16 { dtype == .f16 ? Float16(value).bitPattern : UInt16(value.bitPattern >> 16) }
        func widened(_ value: Float) -> Float {
            dtype == .f16 ? HalfPrecision.float(half: bits(value)) : HalfPrecision.float(bfloat: bits(value))
        }
        try Self.rewrite(source, to: half, as: dtype) { withUnsafeBytes(of: bits($0).littleEndian) { Array($0) } }
        try Self.rewrite(source, to: wide, as: .f32) { withUnsafeBytes(of: widened($0).bitPattern.littleEndian) { Array($0) } }
        let a = try BertEncoder(contentsOf: half), b = try BertEncoder(contentsOf: wide)
        for encoder in [a, b] {
            let matrices = [encoder.wordEmbedding, encoder.positionEmbedding]
                + encoder.layers.flatMap { [$0.query, $0.key, $0.value, $0.attentionOutput, $0.up, $0.down] }
            #expect(matrices.allSatisfy { $0.storage.owner is MappedFile && $0.storage.owned == nil }, "copied at load")
        }
        #expect(a.layers[0].up.type == (dtype == .f16 ? .f16 : .bf16) && b.layers[0].up.type == .f32)
        let batch = [[0, 5, 17, 33, 9, 2], [0, 44, 2], Array(repeating: 7, count: 40)]
        let layers = Set(0...2)
        #expect(a.hiddenStates(batch, layers: layers) == b.hiddenStates(batch, layers: layers))
        let qa = try a.quantized(.q4_1), qb = try b.quantized(.q4_1)
        #expect(qa.hiddenStates(batch, layers: layers) == qb.hiddenStates(batch, layers: layers))
        #expect(qa.hiddenStates(batch, layers: [2]) != a.hiddenStates(batch, layers: [2]))
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
        #expect(throws: ModelError.unsupportedActivation(path: directory.appendingPathComponent("config.json").path, name: "relu", supported: "gelu")) { try BertEncoder(contentsOf: directory) }
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
