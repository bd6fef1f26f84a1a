import AssayCheckpoint
import AssayCore
import AssayMetrics
import AssayStats
import AssayTensor
import AssayTokenizer
import AssayModels
import Foundation

/// BERTScore with an in-process encoder, as bert_score 0.3.13's `score` runs it: each text is
/// stripped and encoded with the special tokens ([CLS] … [SEP], or <s> … </s> with a prefix space
/// for byte-level BPE), truncated at the model's maximum length; distinct texts are embedded once,
/// longest first, in batches; every candidate is matched against each of its references and keeps
/// the best P, R and F; idf weights come from the references.
public struct BERTScorer: Sendable {
    public let encoder: BertEncoder
    public let tokenizer: ModelTokenizer
    /// The model's name in signatures (the directory name).
    public let name: String
    /// Longest token sequence, special tokens included (tokenizer_config's `model_max_length`,
    /// capped by the position table).
    public let maxLength: Int
    /// The special tokens framing every sequence.
    public let special: Set<Int>
    let prefix: Int, suffix: Int

    /// What to compute.
    public struct Options: Sendable {
        /// Hidden layer to use; nil = bert_score's tuned layer for known models, else the last.
        public var layer: Int?
        public var idf: Bool
        /// Rescale with this baseline; `baselineIsCustom` marks a file the user supplied.
        public var baseline: BERTScoreBaseline?
        public var baselineIsCustom: Bool
        /// Leave [CLS]/[SEP] out of the similarity matrix (bert_score issue #180); off = bert_score.
        public var excludeSpecialFromMatching: Bool
        /// Tokens per encoder batch (all projections of a batch are one GEMM).
        public var batchTokens: Int

        public init(layer: Int? = nil, idf: Bool = false, baseline: BERTScoreBaseline? = nil, baselineIsCustom: Bool = true,
                    excludeSpecialFromMatching: Bool = false, batchTokens: Int = 8192) {
            self.layer = layer
            self.idf = idf
            self.baseline = baseline
            self.baselineIsCustom = baselineIsCustom
            self.excludeSpecialFromMatching = excludeSpecialFromMatching
            self.batchTokens = batchTokens
        }
    }

    /// Per-candidate scores and their means.
    public struct Result: Sendable {
        public var scores: [BERTScore.Score]
        public var mean: BERTScore.Score
        public var layer: Int
        public var signature: String
        /// Distinct texts embedded and their tokens.
        public var textsEncoded: Int
        public var tokensEncoded: Int
        /// Distinct references whose embeddings came from the ``ReferenceCache`` (not embedded).
        public var referencesFromCache = 0
    }

    /// Reference embeddings kept between runs: `cache` (the results store) under keys naming
    /// `identity` — the encoder's weights (SHA-256), its in-memory quantization and the build of
    /// assay, which the caller knows — with the model's name, maximum length, the layer and the text.
    public struct ReferenceCache: Sendable {
        public var cache: any BERTScore.EmbeddingCache
        public var identity: String

        public init(cache: any BERTScore.EmbeddingCache, identity: String) {
            self.cache = cache
            self.identity = identity
        }
    }

    /// The key of `text`'s embedding at `layer` in `cache`.
    func cacheKey(_ text: String, layer: Int, cache: ReferenceCache) -> String {
        SHA256.hex(Data(["bertscore-embedding/1", cache.identity, name, String(maxLength), String(layer), text].joined(separator: "\u{1E}").utf8))
    }

    /// Scores with `model` (loaded by the caller: `EncoderModel(directory:)`, possibly quantized).
    /// - Throws: as ``init(encoder:tokenizer:name:modelMaxLength:)``.
    public init(model: EncoderModel) throws {
        try self.init(encoder: model.encoder, tokenizer: model.tokenizer, name: model.name, modelMaxLength: model.modelMaxLength)
    }

    /// Uses `encoder` (possibly quantized) with `tokenizer`.
    /// - Throws: ``ModelError/missingMetadata(path:key:)`` when the tokenizer lacks the special
    ///   tokens, ``ModelError/wrongShape(path:name:expected:found:)`` when it has ids beyond the
    ///   encoder's embedding table.
    public init(encoder: BertEncoder, tokenizer: ModelTokenizer, name: String, modelMaxLength: Int? = nil) throws {
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.name = name
        maxLength = min(modelMaxLength ?? .max, encoder.configuration.maxSequenceLength)
        switch tokenizer {
        case let .wordPiece(w):
            prefix = w.vocabulary[w.classifierToken]!
            suffix = w.vocabulary[w.separatorToken]!
        case let .bytePairEncoding(b):
            guard let bos = b.ids["<s>"] ?? b.bos, let eos = b.ids["</s>"] ?? b.eos else {
                throw ModelError.missingMetadata(path: encoder.url.path, key: "<s> and </s> tokens")
            }
            prefix = bos
            suffix = eos
        case .sentencePiece:
            throw ModelError.missingMetadata(path: encoder.url.path, key: "a WordPiece or byte-level BPE tokenizer")
        }
        special = [prefix, suffix]
        // Every id the tokenizer can produce must have an embedding row.
        let largest: Int = switch tokenizer {
        case let .wordPiece(w): max(w.tokens.count - 1, w.vocabulary.values.max() ?? 0)
        case let .bytePairEncoding(b): max(b.tokens.count - 1, b.ids.values.max() ?? 0)
        case .sentencePiece: 0
        }
        guard largest < encoder.configuration.vocabulary else {
            throw ModelError.wrongShape(path: encoder.url.path, name: "embeddings.word_embeddings.weight",
                                        expected: [largest + 1, encoder.configuration.hidden],
                                        found: [encoder.configuration.vocabulary, encoder.configuration.hidden])
        }
    }

    /// bert_score's tuned layer for this model, else the last.
    public var defaultLayer: Int { BERTScore.tunedLayers[name.lowercased()] ?? encoder.configuration.layers }

    /// The token ids bert_score's `sent_encode` gives `text`.
    public func tokens(_ text: String) -> [Int] {
        let stripped = PythonText.strip(text)
        guard !stripped.isEmpty else { return [prefix, suffix] }
        var body: [Int]
        switch tokenizer {
        case let .wordPiece(w): body = w.encode(stripped, addSpecialTokens: false)
        case let .bytePairEncoding(b): body = b.encode(" " + stripped, addSpecial: false, parseSpecial: true)
        case .sentencePiece: body = []
        }
        if body.count > maxLength - 2 { body.removeLast(body.count - (maxLength - 2)) }
        return [prefix] + body + [suffix]
    }

    /// Embeddings of each distinct text at each of `layers`, longest texts first in batches of
    /// about `batchTokens` tokens; `progress(done, total)` after each batch. Batches run on
    /// `Threads.count` worker threads at once, each product on its worker alone: whole batches in
    /// parallel keep both cores busy through the element-wise work and the small per-sequence
    /// attention products that splitting each product would leave to one core. A text's
    /// embedding depends on the text alone (``BertEncoder``'s products are ordered), not on the
    /// batches, so a shard that embeds only its items' texts and a cache filled by another run
    /// give the same bits as embedding everything at once.
    /// - Throws: ``ProcedureError/nonFiniteEncoderOutput(model:layer:text:)`` when a vector is not
    ///   finite (weights holding NaN or infinity had scored `P: nan`, `F1: 0` with exit 0).
    public func embed(_ texts: [String], layers: Set<Int>, batchTokens: Int = 8192,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [String: [Int: BERTScore.Embedding]] {
        // Distinct texts in first-appearance order, longest first (ties keep that order).
        var seen = Set<String>()
        let distinct = texts.filter { seen.insert($0).inserted }
        let threads = Threads.count
        let tokenized = distinct.concurrentMap(threads: threads, tokens)
        let order = distinct.indices.sorted { (tokenized[$0].count, $1) > (tokenized[$1].count, $0) }
        // The last few batches are a quarter of the size, so that the workers finish together
        // instead of one waiting out the other's last full batch (a block of a resumable run ends
        // that way every ~20 s).
        var remaining = tokenized.reduce(0) { $0 + $1.count }
        var ranges: [Range<Int>] = []
        var start = 0
        while start < order.count {
            let budget = threads > 1 && remaining < threads * batchTokens ? max(1, batchTokens / 4) : batchTokens
            var end = start, count = 0
            while end < order.count, end == start || count + tokenized[order[end]].count <= budget {
                count += tokenized[order[end]].count
                end += 1
            }
            ranges.append(start..<end)
            remaining -= count
            start = end
        }
        let batches = ranges
        let workers = max(1, min(threads, batches.count))
        let collector = EmbeddingCollector()
        let dimension = encoder.configuration.hidden
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let workspace = BertEncoder.Workspace(threads: workers > 1 ? 1 : threads)
            while let batch = collector.nextBatch(of: batches) {
                let sequences = order[batch].map { tokenized[$0] }
                let states = encoder.hiddenStates(sequences, layers: layers, workspace: workspace)
                var embedded: [(String, [Int: BERTScore.Embedding])] = []
                for (k, index) in order[batch].enumerated() {
                    var perLayer: [Int: BERTScore.Embedding] = [:]
                    for (layer, rows) in states {
                        perLayer[layer] = BERTScore.Embedding(tokens: sequences[k], states: rows[k], dimension: dimension)
                    }
                    embedded.append((distinct[index], perLayer))
                }
                let done = collector.add(embedded, texts: batch.count)
                progress?(done, order.count)
            }
        }
        let result = collector.result
        for text in distinct {
            for (layer, embedding) in result[text] ?? [:] where embedding.vectors.contains(where: { !$0.isFinite }) {
                throw ProcedureError.nonFiniteEncoderOutput(model: name, layer: layer, text: text)
            }
        }
        return result
    }

    /// `items` in consecutive blocks whose new texts come to about `blockTokens` each (a text counts
    /// in the first block that uses it, its UTF-8 bytes / 4 + 2 standing in for its tokens), or in
    /// one block without a bound; and how many distinct texts they hold.
    public static func blocks<Items: Collection>(of items: Items, texts: (Items.Element) -> [String], blockTokens: Int?)
        -> (blocks: [Items.SubSequence], texts: Int) {
        var blocks: [Items.SubSequence] = []
        var planned = Set<String>()
        var start = items.startIndex, size = 0
        for i in items.indices {
            for text in texts(items[i]) where planned.insert(text).inserted { size += text.utf8.count / 4 + 2 }
            let next = items.index(after: i)
            if let blockTokens, size >= blockTokens || next == items.endIndex {
                blocks.append(items[start..<next])
                (start, size) = (next, 0)
            }
        }
        if blockTokens == nil, !items.isEmpty { blocks = [items[...]] }
        return (blocks, planned.count)
    }

    /// BERTScore of each candidate against its references (`references[i]` lists those of
    /// `candidates[i]`; their number may vary). With idf the weights come from `idfReferences`
    /// when given — every reference of a dataset of which these candidates are a part (a shard,
    /// or the items a resumed run has left) — and otherwise from `references`.
    ///
    /// With `blockTokens` the items go in consecutive blocks whose texts not embedded before come
    /// to about that many tokens, and `finished` gets each block's item range and scores as soon as
    /// they are known (a run keeps them for `--resume`; throwing stops the scoring there). A text
    /// is embedded once whichever blocks use it, and an embedding does not depend on its batch, so
    /// the scores are the same bits as in one block.
    /// - Throws: ``MetricsError`` for mismatched counts, a candidate without references, a layer
    ///   outside the encoder, or a baseline without that layer; what `finished` throws.
    public func score(candidates: [String], references: [[String]], options: Options = Options(), referenceCache: ReferenceCache? = nil,
                      idfReferences: [String]? = nil, blockTokens: Int? = nil, progress: (@Sendable (Int, Int) -> Void)? = nil,
                      finished: ((_ items: Range<Int>, _ scores: ArraySlice<BERTScore.Score>) throws -> Void)? = nil) throws -> Result {
        guard !candidates.isEmpty else { throw MetricsError.emptyInput(what: "candidates") }
        guard references.count == candidates.count else {
            throw MetricsError.lineCountMismatch(hypotheses: candidates.count, references: references.count, referencePath: "the references")
        }
        if let missing = references.firstIndex(where: \.isEmpty) {
            throw MetricsError.invalidOption(name: "references", value: "item \(missing + 1)", reason: "the candidate has no reference")
        }
        let layer = options.layer ?? defaultLayer
        guard (0...encoder.configuration.layers).contains(layer) else {
            throw MetricsError.invalidOption(name: "layer", value: String(layer), reason: "the encoder has layers 0…\(encoder.configuration.layers)")
        }
        let baseline = try options.baseline.map { try $0.baseline(layer: layer) }  // fail before the expensive part
        let weights = options.idf
            ? BERTScore.Weights.idf(references: (idfReferences ?? references.flatMap { $0 }).map(tokens))
            : BERTScore.Weights.uniform(special: special)
        let excluded = options.excludeSpecialFromMatching ? special : []
        let candidateSet = Set(candidates)
        let (blocks, total) = Self.blocks(of: candidates.indices, texts: { [candidates[$0]] + references[$0] }, blockTokens: blockTokens)
        var embeddings: [String: BERTScore.Embedding] = [:]
        var scores: [BERTScore.Score] = []
        scores.reserveCapacity(candidates.count)
        var textsEncoded = 0, tokensEncoded = 0, referencesFromCache = 0
        for block in blocks {
            var seen = Set<String>()
            let texts = ([candidates[block]] + references[block].map { $0[...] }).joined().filter { embeddings[$0] == nil && seen.insert($0).inserted }
            var fresh = texts
            var keys: [String: String] = [:]
            if let referenceCache {
                // References kept by an earlier run are taken (when their tokens are the ones this
                // tokenizer gives them now); the rest are embedded with the candidates and kept.
                // (A reference that is also a candidate is embedded as one, and kept.)
                for text in Set(references[block].joined()) where embeddings[text] == nil {
                    keys[text] = cacheKey(text, layer: layer, cache: referenceCache)
                }
                let kept = referenceCache.cache.embeddings(forKeys: keys.filter { !candidateSet.contains($0.key) }.map(\.value))
                let found = keys.filter { !candidateSet.contains($0.key) }.compactMap { text, key in kept[key].map { (text: text, embedding: $0) } }
                let usable = found.concurrentMap(threads: Threads.count) { text, embedding in
                    embedding.dimension == encoder.configuration.hidden && embedding.tokens == tokens(text)
                }
                for (k, (text, embedding)) in found.enumerated() where usable[k] {
                    embeddings[text] = embedding
                    referencesFromCache += 1
                }
                fresh = texts.filter { embeddings[$0] == nil }
            }
            let before = embeddings.count
            var report: (@Sendable (Int, Int) -> Void)?
            if let progress { report = { done, _ in progress(before + done, total) } }
            let embedded = try embed(fresh, layers: [layer], batchTokens: options.batchTokens, progress: report)
            for (text, perLayer) in embedded {
                guard let embedding = perLayer[layer] else { continue }
                embeddings[text] = embedding
                tokensEncoded += embedding.tokens.count
            }
            textsEncoded += embedded.count
            if let referenceCache {
                referenceCache.cache.keep(keys.compactMap { text, key in embedded[text]?[layer].map { (key: key, embedding: $0) } })
            }
            let known = embeddings
            scores += block.concurrentMap(threads: Threads.count) { i in
                let candidate = known[candidates[i]]!
                let best = BERTScore.Score.best(references[i].map { reference in
                    BERTScore.score(candidate: candidate, reference: known[reference]!, weights: weights, excludedFromMatching: excluded)
                })
                return baseline.map { best.rescaled(by: $0) } ?? best
            }
            try finished?(block, scores[block])
        }
        let n = Double(scores.count)
        let mean = BERTScore.Score(precision: scores.map(\.precision).reduce(0, +) / n, recall: scores.map(\.recall).reduce(0, +) / n,
                                   f1: scores.map(\.f1).reduce(0, +) / n)
        return Result(scores: scores, mean: mean, layer: layer, signature: signature(layer: layer, options: options), textsEncoded: textsEncoded,
                      tokensEncoded: tokensEncoded, referencesFromCache: referencesFromCache)
    }

    /// BERTScore from embeddings already computed with ``embed(_:layers:batchTokens:progress:)`` at
    /// `layer`; idf weights from `idfReferences` (tokenized here) when given, else from `references`.
    public func score(candidates: [String], references: [[String]], embeddings: [String: [Int: BERTScore.Embedding]], layer: Int,
                      options: Options, idfReferences: [String]? = nil) throws -> Result {
        let baseline = try options.baseline.map { try $0.baseline(layer: layer) }
        let allReferences = references.flatMap { $0 }
        let weights = options.idf
            ? BERTScore.Weights.idf(references: idfReferences.map { $0.map(tokens) } ?? allReferences.map { embeddings[$0]![layer]!.tokens })
            : BERTScore.Weights.uniform(special: special)
        let excluded = options.excludeSpecialFromMatching ? special : []
        let scores = candidates.indices.map { i -> BERTScore.Score in
            let candidate = embeddings[candidates[i]]![layer]!
            let best = BERTScore.Score.best(references[i].map { reference in
                BERTScore.score(candidate: candidate, reference: embeddings[reference]![layer]!, weights: weights, excludedFromMatching: excluded)
            })
            return baseline.map { best.rescaled(by: $0) } ?? best
        }
        let n = Double(scores.count)
        let mean = BERTScore.Score(precision: scores.map(\.precision).reduce(0, +) / n, recall: scores.map(\.recall).reduce(0, +) / n,
                                   f1: scores.map(\.f1).reduce(0, +) / n)
        return Result(scores: scores, mean: mean, layer: layer, signature: signature(layer: layer, options: options), textsEncoded: embeddings.count,
                      tokensEncoded: embeddings.values.reduce(0) { $0 + ($1[layer]?.tokens.count ?? 0) })
    }

    /// The signature of scores at `layer` with `options` (the model named with its quantization).
    public func signature(layer: Int, options: Options) -> String {
        var model = name
        if let q = encoder.weightQuantization { model += "-" + q.description.lowercased() }
        return BERTScore.signature(model: model, layer: layer, idf: options.idf, rescaled: options.baseline != nil,
                                   customBaseline: options.baselineIsCustom, excludeSpecial: options.excludeSpecialFromMatching)
    }

    /// A rescaling baseline as bert_score's were made: the mean P, R and F (no idf) at every layer
    /// over `pairs` random pairs of different sentences from `sentences` (blank lines and repeats
    /// dropped), drawn with `seed`.
    /// - Throws: ``MetricsError/emptyInput(what:)`` with fewer than two distinct sentences.
    public func baseline(sentences: [String], pairs: Int, seed: UInt64, batchTokens: Int = 8192,
                         progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> BERTScoreBaseline {
        var seen = Set<String>()
        let distinct = sentences.filter { !PythonText.strip($0).isEmpty && seen.insert($0).inserted }
        guard distinct.count >= 2 else { throw MetricsError.emptyInput(what: "pairs of distinct sentences (the corpus needs at least two)") }
        var generator = SeededGenerator(seed: seed)
        let drawn: [(Int, Int)] = (0..<pairs).map { _ in
            let a = generator.index(below: distinct.count)
            var b = generator.index(below: distinct.count - 1)
            if b >= a { b += 1 }
            return (a, b)
        }
        let layers = Set(0...encoder.configuration.layers)
        // In index order: a Set's own order changes from instance to instance, and `embed` breaks
        // length ties by input order, so an unordered list would batch — and round — differently.
        let used = Set(drawn.flatMap { [$0.0, $0.1] }).sorted().map { distinct[$0] }
        let embeddings = try embed(used, layers: layers, batchTokens: batchTokens, progress: progress)
        let weights = BERTScore.Weights.uniform(special: special)
        var result: [Int: BERTScore.Score] = [:]
        for layer in layers {
            var sum = BERTScore.Score(precision: 0, recall: 0, f1: 0)
            for (a, b) in drawn {
                let s = BERTScore.score(candidate: embeddings[distinct[a]]![layer]!, reference: embeddings[distinct[b]]![layer]!, weights: weights)
                sum = BERTScore.Score(precision: sum.precision + s.precision, recall: sum.recall + s.recall, f1: sum.f1 + s.f1)
            }
            let n = Double(drawn.count)
            result[layer] = BERTScore.Score(precision: sum.precision / n, recall: sum.recall / n, f1: sum.f1 / n)
        }
        return BERTScoreBaseline(layers: result)
    }
}

/// Hands out batch indices to worker threads and gathers their embeddings under a lock.
private final class EmbeddingCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0, done = 0
    private(set) var result: [String: [Int: BERTScore.Embedding]] = [:]

    func nextBatch(of batches: [Range<Int>]) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard next < batches.count else { return nil }
        next += 1
        return batches[next - 1]
    }

    /// Stores a batch's embeddings; returns the number of texts done so far.
    func add(_ embedded: [(String, [Int: BERTScore.Embedding])], texts: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        for (text, layers) in embedded { result[text] = layers }
        done += texts
        return done
    }
}
