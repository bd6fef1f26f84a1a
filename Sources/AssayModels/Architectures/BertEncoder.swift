import AssayCheckpoint
import AssayTensor
import Foundation

/// A BERT-family encoder — BERT, RoBERTa (and sentence-transformers' MiniLM, a BERT) — from a
/// Hugging Face directory, following transformers' `BertModel`/`RobertaModel`: word + position +
/// token-type embeddings and LayerNorm; post-LN layers of multi-head self-attention and an exact
/// (erf) GELU feed-forward. Sequences are not padded: every token of a batch goes through each
/// projection in one matrix product, and attention runs per sequence over its own tokens only —
/// the same numbers a padding mask gives. The products are ordered (each output one chain of
/// multiply-adds, ``Kernels/orderedProduct(m:n:k:a:lda:b:ldb:transposeB:c:ldc:startingFrom:threads:)``) and
/// every other step works row by row, so a sequence's hidden states are the same bits whichever
/// sequences share its batch, whatever the thread count and SIMD level (one build of assay). Embedding tables and projections stay in the
/// memory-mapped safetensors file (F32 in place; F16/BF16 dequantized in panels per product, see
/// ``WeightMatrix``); only biases and LayerNorm vectors are copied.
public struct BertEncoder: Sendable {
    /// Hyper-parameters from `config.json`.
    public struct Configuration: Sendable, Equatable {
        /// `bert`, `roberta` or `xlm-roberta`.
        public var architecture: String
        public var layers: Int
        public var hidden: Int
        public var heads: Int
        public var intermediate: Int
        public var vocabulary: Int
        public var maxPositions: Int
        public var typeVocabulary: Int
        public var epsilon: Float
        /// The position id of the first token: 0 for BERT, `pad_token_id + 1` for RoBERTa (whose
        /// positions count from after the padding index).
        public var positionOffset: Int
        /// The longest sequence the position table allows.
        public var maxSequenceLength: Int { maxPositions - positionOffset }
    }

    /// Architectures the loader knows (`model_type`).
    public static let supportedArchitectures = ["bert", "roberta", "xlm-roberta"]

    struct Layer: Sendable {
        /// The query, key and value projections (hidden × hidden each) and their biases stacked
        /// (3·hidden): the three products write side by side into one (tokens × 3·hidden) buffer.
        var query: WeightMatrix, key: WeightMatrix, value: WeightMatrix, qkvBias: [Float]
        var attentionOutput: WeightMatrix, attentionOutputBias: [Float]
        var attentionNorm: [Float], attentionNormBias: [Float]
        var up: WeightMatrix, upBias: [Float]
        var down: WeightMatrix, downBias: [Float]
        var outputNorm: [Float], outputNormBias: [Float]
    }

    public let configuration: Configuration
    /// The directory it was loaded from.
    public let url: URL
    /// The weights' ggml type when they were quantized in memory (``quantized(_:)``), else nil.
    public private(set) var weightQuantization: GGMLType?
    let wordEmbedding: WeightMatrix, positionEmbedding: WeightMatrix
    /// Token type 0's embedding: every token's type (one segment, as bert_score encodes).
    let typeEmbedding: [Float]
    let embeddingNorm: [Float], embeddingNormBias: [Float]
    var layers: [Layer]

    /// Loads a Hugging Face directory (or its `config.json`/`.safetensors` file) holding
    /// `BertModel`/`RobertaModel` weights, bare or under a `bert.`/`roberta.` prefix. Pooler and
    /// pre-training heads are ignored; any other tensor the architecture does not use is an error.
    /// - Throws: ``ModelError`` naming the missing, mis-shaped or unused tensor, or
    ///   ``CheckpointError`` for an unreadable file.
    public init(contentsOf url: URL) throws {
        let checkpoint = try SafetensorsCheckpoint(contentsOf: url)
        // Values are config.json's (named by its path); tensors are the directory's.
        let config = checkpoint.config, path = config.url.path, directory = checkpoint.directory.path
        let arch = try config.string("model_type") ?? "?"
        guard Self.supportedArchitectures.contains(arch) else {
            throw ModelError.unsupportedArchitecture(path: path, name: arch, supported: Self.supportedArchitectures)
        }
        func int(_ key: String) throws -> Int {
            guard let v = try config.integer(key) else { throw ModelError.missingMetadata(path: path, key: key) }
            return v
        }
        if let act = try config.string("hidden_act"), act != "gelu" {
            throw ModelError.unsupportedActivation(path: path, name: act, supported: "gelu")
        }
        if let kind = try config.string("position_embedding_type"), kind != "absolute" {
            throw ModelError.unsupportedPositionEmbedding(path: path, type: kind)
        }
        // RoBERTa's positions count from after the padding index; checked below against the table.
        let pad = try config.integer("pad_token_id") ?? 1
        guard pad >= 0, pad < Int.max else {
            throw ModelError.invalidMetadata(path: path, key: "pad_token_id", value: String(pad), reason: "it must be 0 or more")
        }
        let check = MetadataCheck(path: path)
        // Checked as read (a Double): 1e300 converted to Float first had been refused as "inf".
        let epsilon = try check.positive(try config.number("layer_norm_eps") ?? 1e-12, "layer_norm_eps", maximum: 1)
        let c = Configuration(
            architecture: arch, layers: try int("num_hidden_layers"), hidden: try int("hidden_size"),
            heads: try int("num_attention_heads"), intermediate: try int("intermediate_size"), vocabulary: try int("vocab_size"),
            maxPositions: try int("max_position_embeddings"), typeVocabulary: try config.integer("type_vocab_size") ?? 2,
            epsilon: epsilon,
            positionOffset: arch == "bert" ? 0 : pad + 1)
        typealias Limit = MetadataCheck.Limit
        _ = try check.count(c.layers, "num_hidden_layers", maximum: Limit.layers)
        _ = try check.count(c.hidden, "hidden_size", maximum: Limit.width)
        _ = try check.count(c.heads, "num_attention_heads", maximum: Limit.heads)
        try check.divides(c.heads, "num_attention_heads", into: c.hidden, "hidden_size")
        _ = try check.count(c.intermediate, "intermediate_size", maximum: Limit.feedForward)
        _ = try check.count(c.vocabulary, "vocab_size", maximum: Limit.vocabulary)
        _ = try check.count(c.maxPositions, "max_position_embeddings", maximum: Limit.context)
        _ = try check.count(c.typeVocabulary, "type_vocab_size", maximum: Limit.vocabulary)
        // Positions start after the padding index (RoBERTa): at least [CLS] and [SEP] must fit after it.
        guard c.maxSequenceLength >= 2 else {
            let tableTooSmall = c.maxPositions < 2
            throw ModelError.invalidMetadata(path: path, key: tableTooSmall ? "max_position_embeddings" : "pad_token_id",
                                             value: tableTooSmall ? String(c.maxPositions) : String(pad),
                                             reason: "it leaves room for \(max(0, c.maxSequenceLength)) token(s) of \(c.maxPositions) positions; a sequence needs at least 2")
        }
        let names = checkpoint.tensors.map(\.tensor.name)
        let prefix = ["", "bert.", "roberta.", "model."].first { names.contains($0 + "embeddings.word_embeddings.weight") } ?? ""
        var used = Set<String>()
        func located(_ name: String, _ shape: [Int]) throws -> (SafetensorsFile, SafetensorsFile.TensorInfo) {
            let full = prefix + name
            guard let (file, info) = checkpoint.tensor(full) else { throw ModelError.missingTensor(path: directory, name: full) }
            guard info.shape == shape else { throw ModelError.wrongShape(path: directory, name: full, expected: shape, found: info.shape) }
            used.insert(full)
            return (file, info)
        }
        /// A vector (bias, LayerNorm), copied as f32.
        func vector(_ name: String, _ length: Int) throws -> [Float] {
            let (file, info) = try located(name, [length])
            return try file.floats(info)
        }
        /// A table or projection, referenced in place.
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            let (file, info) = try located(name, [rows, columns])
            return try file.weightMatrix(info)
        }
        let h = c.hidden, f = c.intermediate
        wordEmbedding = try matrix("embeddings.word_embeddings.weight", c.vocabulary, h)
        positionEmbedding = try matrix("embeddings.position_embeddings.weight", c.maxPositions, h)
        typeEmbedding = try matrix("embeddings.token_type_embeddings.weight", c.typeVocabulary, h).row(0)
        embeddingNorm = try vector("embeddings.LayerNorm.weight", h)
        embeddingNormBias = try vector("embeddings.LayerNorm.bias", h)
        layers = try (0..<c.layers).map { i in
            let p = "encoder.layer.\(i)."
            return Layer(
                query: try matrix(p + "attention.self.query.weight", h, h), key: try matrix(p + "attention.self.key.weight", h, h),
                value: try matrix(p + "attention.self.value.weight", h, h),
                qkvBias: try vector(p + "attention.self.query.bias", h) + vector(p + "attention.self.key.bias", h)
                    + vector(p + "attention.self.value.bias", h),
                attentionOutput: try matrix(p + "attention.output.dense.weight", h, h),
                attentionOutputBias: try vector(p + "attention.output.dense.bias", h),
                attentionNorm: try vector(p + "attention.output.LayerNorm.weight", h),
                attentionNormBias: try vector(p + "attention.output.LayerNorm.bias", h),
                up: try matrix(p + "intermediate.dense.weight", f, h), upBias: try vector(p + "intermediate.dense.bias", f),
                down: try matrix(p + "output.dense.weight", h, f), downBias: try vector(p + "output.dense.bias", h),
                outputNorm: try vector(p + "output.LayerNorm.weight", h), outputNormBias: try vector(p + "output.LayerNorm.bias", h))
        }
        // Heads for pre-training or pooling, and transformers' position-id buffers, are not part
        // of the encoder's hidden states.
        let ignored = ["pooler.", "cls.", "lm_head.", "classifier.", "embeddings.position_ids", "embeddings.token_type_ids"]
        let unused = names.filter { name in
            !used.contains(name) && !ignored.contains { name.hasPrefix($0) || name.hasPrefix(prefix + $0) }
        }
        guard unused.isEmpty else { throw ModelError.unusedTensors(path: directory, names: unused) }
        configuration = c
        self.url = checkpoint.directory
    }

    /// This encoder with every projection matrix quantized to `type` (a 32-element format: Q8_0,
    /// Q4_0, Q4_1, Q5_0, Q5_1), held in memory in that type and dequantized in panels per product
    /// — embeddings, biases and LayerNorms stay as loaded, as llama.cpp keeps norms and biases: the
    /// numbers a quantized copy of the model computes, for measuring quantization drift.
    /// - Throws: ``ModelError/unsupportedQuantization(type:supported:)`` for a type the quantizer lacks.
    public func quantized(_ type: GGMLType) throws -> BertEncoder {
        let supported: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1]
        guard supported.contains(type) else {
            throw ModelError.unsupportedQuantization(type: type.description, supported: supported.map(\.description))
        }
        // A matrix whose rows do not hold whole blocks falls back to F16, as llama-quantize does.
        func convert(_ matrix: WeightMatrix) -> WeightMatrix {
            (matrix.columns % type.blockSize == 0 ? matrix.converted(to: type) : nil) ?? matrix.converted(to: .f16)!
        }
        var copy = self
        copy.weightQuantization = type
        copy.layers = layers.map { layer in
            var l = layer
            l.query = convert(l.query)
            l.key = convert(l.key)
            l.value = convert(l.value)
            l.attentionOutput = convert(l.attentionOutput)
            l.up = convert(l.up)
            l.down = convert(l.down)
            return l
        }
        return copy
    }

    /// Scratch buffers for ``hiddenStates(_:layers:workspace:)``, reused across batches so that
    /// large activations are not allocated (and page-faulted) for every layer. One per thread.
    public final class Workspace {
        var x: [Float] = [], qkv: [Float] = [], attention: [Float] = [], projected: [Float] = [], up: [Float] = [], scores: [Float] = []
        var position: [Float] = []
        /// Threads each projection is split across: 1 when batches already run on several threads at once.
        let threads: Int

        public init(threads: Int = Threads.count) {
            self.threads = threads
        }

        func reserve(tokens n: Int, longest: Int, _ c: Configuration) {
            func grow(_ a: inout [Float], _ count: Int) { if a.count < count { a = [Float](repeating: 0, count: count) } }
            grow(&x, n * c.hidden)
            grow(&qkv, n * 3 * c.hidden)
            grow(&attention, n * c.hidden)
            grow(&projected, n * c.hidden)
            grow(&up, n * c.intermediate)
            grow(&scores, longest * longest)
            grow(&position, c.hidden)
        }
    }

    /// The hidden states after `layer` (0 = the embedding output, `layers` = the last layer) of
    /// each sequence: `sequences[i].count × hidden` values, row-major. Layers after `layer` are
    /// not computed.
    /// - Precondition: `0 ≤ layer ≤ layers`, every token id is in the vocabulary and no sequence
    ///   is longer than ``Configuration/maxSequenceLength``.
    public func hiddenStates(_ sequences: [[Int]], layer: Int) -> [[Float]] {
        hiddenStates(sequences, layers: [layer])[layer]!
    }

    /// The hidden states after each of `layers` in one pass (up to the deepest of them).
    public func hiddenStates(_ sequences: [[Int]], layers wanted: Set<Int>, workspace: Workspace = Workspace()) -> [Int: [[Float]]] {
        let c = configuration
        precondition(wanted.allSatisfy { (0...c.layers).contains($0) }, "layers \(wanted.sorted()) are outside 0…\(c.layers)")
        var states: [Int: [[Float]]] = [:]
        let lengths = sequences.map(\.count)
        forward(sequences, through: wanted.max() ?? 0, workspace: workspace) { index, x in
            guard wanted.contains(index) else { return }
            var start = 0
            states[index] = lengths.map { length in
                defer { start += length * c.hidden }
                return Array(UnsafeBufferPointer(start: x + start, count: length * c.hidden))
            }
        }
        return states
    }

    /// The hidden states of one sequence after every layer: `layers + 1` arrays (transformers'
    /// `output_hidden_states`).
    public func allHiddenStates(_ tokens: [Int]) -> [[Float]] {
        var states: [[Float]] = []
        forward([tokens], through: configuration.layers, workspace: Workspace()) { _, x in
            states.append(Array(UnsafeBufferPointer(start: x, count: tokens.count * configuration.hidden)))
        }
        return states
    }

    /// Runs the embeddings and `through` layers over all tokens of `sequences`, calling `observe`
    /// with the layer index and the (tokens × hidden) activations after it (valid during the call).
    func forward(_ sequences: [[Int]], through last: Int, workspace ws: Workspace, observe: (Int, UnsafePointer<Float>) -> Void) {
        let c = configuration, h = c.hidden, f = c.intermediate, lengths = sequences.map(\.count)
        precondition(lengths.allSatisfy { $0 <= c.maxSequenceLength }, "a sequence is longer than \(c.maxSequenceLength) tokens")
        let n = lengths.reduce(0, +)
        ws.reserve(tokens: max(n, 1), longest: max(lengths.max() ?? 1, 1), c)
        ws.x.withUnsafeMutableBufferPointer { px in
            let x = px.baseAddress!
            var row = 0
            ws.position.withUnsafeMutableBufferPointer { positionRow in
                let p = positionRow.baseAddress!
                for tokens in sequences {
                    for (position, token) in tokens.enumerated() {
                        precondition(token >= 0 && token < c.vocabulary, "token id \(token) is outside the vocabulary")
                        let o = x + row * h
                        wordEmbedding.dequantizeRow(token, into: o)
                        positionEmbedding.dequantizeRow(position + c.positionOffset, into: p)
                        for i in 0..<h { o[i] = o[i] + typeEmbedding[i] + p[i] }
                        row += 1
                    }
                }
            }
            Kernels.residualLayerNorm(x, adding: nil, rows: n, weight: embeddingNorm, bias: embeddingNormBias, epsilon: c.epsilon)
            observe(0, x)
            ws.qkv.withUnsafeMutableBufferPointer { qkvBuffer in
            ws.attention.withUnsafeMutableBufferPointer { attentionBuffer in
            ws.projected.withUnsafeMutableBufferPointer { projectedBuffer in
            ws.up.withUnsafeMutableBufferPointer { upBuffer in
            ws.scores.withUnsafeMutableBufferPointer { scores in
                let qkv = qkvBuffer.baseAddress!, attention = attentionBuffer.baseAddress!
                let projected = projectedBuffer.baseAddress!, up = upBuffer.baseAddress!
                for (index, layer) in layers.prefix(last).enumerated() {
                    // Each projection's outputs start from its bias and add the product.
                    layer.qkvBias.withUnsafeBufferPointer { bias in
                        layer.query.accumulate(x, rows: n, into: qkv, outputStride: 3 * h, startingFrom: bias.baseAddress!, threads: ws.threads)
                        layer.key.accumulate(x, rows: n, into: qkv + h, outputStride: 3 * h, startingFrom: bias.baseAddress! + h, threads: ws.threads)
                        layer.value.accumulate(x, rows: n, into: qkv + 2 * h, outputStride: 3 * h, startingFrom: bias.baseAddress! + 2 * h,
                                               threads: ws.threads)
                    }
                    Attention.bidirectional(qkv: qkv, lengths: lengths, heads: c.heads, headDimension: h / c.heads, scores: scores.baseAddress!,
                                            into: attention)
                    layer.attentionOutputBias.withUnsafeBufferPointer { bias in
                        layer.attentionOutput.accumulate(attention, rows: n, into: projected, outputStride: h, startingFrom: bias.baseAddress!,
                                                         threads: ws.threads)
                    }
                    Kernels.residualLayerNorm(x, adding: projected, rows: n, weight: layer.attentionNorm, bias: layer.attentionNormBias, epsilon: c.epsilon)
                    layer.upBias.withUnsafeBufferPointer { bias in
                        layer.up.accumulate(x, rows: n, into: up, outputStride: f, startingFrom: bias.baseAddress!, threads: ws.threads)
                    }
                    Kernels.gelu(up, count: n * f)
                    layer.downBias.withUnsafeBufferPointer { bias in
                        layer.down.accumulate(up, rows: n, into: projected, outputStride: h, startingFrom: bias.baseAddress!, threads: ws.threads)
                    }
                    Kernels.residualLayerNorm(x, adding: projected, rows: n, weight: layer.outputNorm, bias: layer.outputNormBias, epsilon: c.epsilon)
                    observe(index + 1, x)
                }
            }
            }
            }
            }
            }
        }
    }
}
