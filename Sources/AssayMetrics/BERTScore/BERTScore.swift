import Foundation

/// BERTScore (Zhang et al., 2020) as bert_score 0.3.13 computes it, from contextual embeddings
/// computed elsewhere: greedy matching of L2-normalised token vectors by cosine similarity,
/// token weights (uniform or idf) normalised per sentence, F = 2PR/(P+R).
public enum BERTScore {
    /// Precision, recall and F1 of one candidate against one reference.
    public struct Score: Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var f1: Double

        public init(precision: Double, recall: Double, f1: Double) {
            self.precision = precision
            self.recall = recall
            self.f1 = f1
        }

        /// The best of several, each of P, R and F on its own (bert_score's multi-reference rule).
        public static func best(_ scores: [Score]) -> Score {
            Score(precision: scores.map(\.precision).max() ?? 0, recall: scores.map(\.recall).max() ?? 0, f1: scores.map(\.f1).max() ?? 0)
        }

        /// (x − b)/(1 − b) for each of P, R and F with the baseline's values.
        public func rescaled(by baseline: Score) -> Score {
            Score(precision: (precision - baseline.precision) / (1 - baseline.precision),
                  recall: (recall - baseline.recall) / (1 - baseline.recall), f1: (f1 - baseline.f1) / (1 - baseline.f1))
        }
    }

    /// One sentence: its token ids (with the encoder's special tokens) and the L2-normalised
    /// hidden state of each token, `dimension` values per token.
    public struct Embedding: Sendable {
        public let tokens: [Int]
        public let vectors: [Float]
        public let dimension: Int

        /// Normalises each row of `states` (tokens × dimension) to unit length.
        public init(tokens: [Int], states: [Float], dimension: Int) {
            precondition(states.count == tokens.count * dimension, "shape mismatch")
            var v = states
            for row in 0..<tokens.count {
                let base = row * dimension
                var sum = 0.0
                for i in 0..<dimension { sum += Double(v[base + i]) * Double(v[base + i]) }
                let inverse = Float(1 / sum.squareRoot())
                for i in 0..<dimension { v[base + i] *= inverse }
            }
            self.tokens = tokens
            vectors = v
            self.dimension = dimension
        }

        /// An embedding kept earlier (``EmbeddingCache``): token ids as little-endian Int32 and
        /// the normalised vectors as little-endian Float32, checked before use — nil when the
        /// sizes disagree, a value is not finite, or a row is not of unit length (a damaged row
        /// is then embedded again, never scored).
        public init?(tokenData: Data, vectorData: Data, dimension: Int) {
            guard dimension > 0, tokenData.count % 4 == 0, vectorData.count % 4 == 0 else { return nil }
            let tokens = tokenData.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            }
            let (expected, overflow) = tokens.count.multipliedReportingOverflow(by: dimension)
            guard !tokens.isEmpty, !overflow, vectorData.count / 4 == expected else { return nil }
            let vectors = vectorData.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: expected) { buffer, count in
                    for i in 0..<expected {
                        buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    }
                    count = expected
                }
            }
            for row in 0..<tokens.count {
                var sum = 0.0
                for value in vectors[(row * dimension)..<((row + 1) * dimension)] {
                    guard value.isFinite else { return nil }
                    sum += Double(value) * Double(value)
                }
                guard abs(sum - 1) < 1e-3 else { return nil }
            }
            self.tokens = tokens
            self.vectors = vectors
            self.dimension = dimension
        }

        /// The token ids as ``init(tokenData:vectorData:dimension:)`` reads them.
        public var tokenData: Data {
            var data = Data(count: tokens.count * 4)
            data.withUnsafeMutableBytes { raw in
                for (i, token) in tokens.enumerated() { raw.storeBytes(of: Int32(truncatingIfNeeded: token).littleEndian, toByteOffset: 4 * i, as: Int32.self) }
            }
            return data
        }

        /// The vectors as ``init(tokenData:vectorData:dimension:)`` reads them.
        public var vectorData: Data {
            var data = Data(count: vectors.count * 4)
            data.withUnsafeMutableBytes { raw in
                for (i, value) in vectors.enumerated() { raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
            return data
        }
    }

    /// Where reference embeddings are kept between runs (the results store's `embedding_cache`),
    /// under keys that name the encoder's weights, the layer, the build and the text
    /// (`BERTScorer.ReferenceCache`), so that a gate scoring new candidates against fixed
    /// references embeds only the candidates.
    public protocol EmbeddingCache: Sendable {
        /// The embeddings kept under any of `keys`.
        func embeddings(forKeys keys: [String]) -> [String: Embedding]
        /// Keeps each embedding under its key (a failure to write only loses the reuse).
        func keep(_ embeddings: [(key: String, embedding: Embedding)])
    }

    /// Per-token weights: 1 for every token but the special ones (bert_score without idf), or
    /// inverse document frequencies over the references, ln((M + 1)/(df + 1)) with M references
    /// and df the number of references containing the token (ln(M + 1) for a token none has).
    public struct Weights: Sendable {
        let table: [Int: Double]
        let fallback: Double
        /// Whether these are idf weights.
        public let isIDF: Bool

        /// Uniform weights with `special` (the encoder's [CLS]/[SEP] or <s>/</s>) weighted 0.
        public static func uniform(special: Set<Int>) -> Weights {
            Weights(table: Dictionary(uniqueKeysWithValues: special.map { ($0, 0) }), fallback: 1, isIDF: false)
        }

        /// Idf weights from the token ids of every reference (repeats counted as bert_score does:
        /// each listed reference is a document). Special tokens occur in every reference and so
        /// weigh ln(1) = 0.
        public static func idf(references: [[Int]]) -> Weights {
            var df: [Int: Int] = [:]
            for tokens in references { for token in Set(tokens) { df[token, default: 0] += 1 } }
            let m = Double(references.count)
            return Weights(table: df.mapValues { log((m + 1) / Double($0 + 1)) }, fallback: log(m + 1), isIDF: true)
        }

        public func weight(_ token: Int) -> Double { table[token] ?? fallback }
    }

    /// Scores `candidate` against `reference`. Each candidate token takes its highest cosine
    /// with any reference token (precision) and vice versa (recall); the averages are weighted by
    /// `weights`, normalised per sentence. A sentence of special tokens only (an empty input) scores
    /// 0, as in bert_score, and F is 0 when P + R is 0 or undefined. Tokens in
    /// `excludedFromMatching` (opt-in; bert_score issue #180) are left out of the similarity
    /// matrix instead of only weighing 0 — bert_score keeps [CLS]/[SEP] in it, so a word can match them.
    public static func score(candidate: Embedding, reference: Embedding, weights: Weights,
                             excludedFromMatching: Set<Int> = []) -> Score {
        precondition(candidate.dimension == reference.dimension, "embeddings of different encoders")
        let d = candidate.dimension
        let hyp = candidate.tokens.indices.filter { !excludedFromMatching.contains(candidate.tokens[$0]) }
        let ref = reference.tokens.indices.filter { !excludedFromMatching.contains(reference.tokens[$0]) }
        if candidate.tokens.count <= 2 || reference.tokens.count <= 2 || hyp.isEmpty || ref.isEmpty {
            return Score(precision: 0, recall: 0, f1: 0)
        }
        var bestForHyp = [Float](repeating: -.infinity, count: hyp.count)
        var bestForRef = [Float](repeating: -.infinity, count: ref.count)
        candidate.vectors.withUnsafeBufferPointer { c in
            reference.vectors.withUnsafeBufferPointer { r in
                for (i, hi) in hyp.enumerated() {
                    let a = c.baseAddress! + hi * d
                    for (j, rj) in ref.enumerated() {
                        let s = dot(a, r.baseAddress! + rj * d, d)
                        if s > bestForHyp[i] { bestForHyp[i] = s }
                        if s > bestForRef[j] { bestForRef[j] = s }
                    }
                }
            }
        }
        func weightedMean(_ best: [Float], _ positions: [Int], _ tokens: [Int]) -> Double {
            var total = 0.0, sum = 0.0
            for (k, p) in positions.enumerated() {
                let w = weights.weight(tokens[p])
                total += w
                sum += w * Double(best[k])
            }
            return total > 0 ? sum / total : 0
        }
        let p = weightedMean(bestForHyp, hyp, candidate.tokens), r = weightedMean(bestForRef, ref, reference.tokens)
        let f = p + r != 0 ? 2 * p * r / (p + r) : 0
        return Score(precision: p, recall: r, f1: f.isFinite ? f : 0)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(repeating: 0), s1 = SIMD8<Float>(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var total = (s0 + s1).sum()
        while i < n {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }
}
