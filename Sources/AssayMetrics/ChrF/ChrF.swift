import AssayCore
import Dispatch
import Foundation

/// chrF and chrF++, identical to sacrebleu 2.6.0 (`sacrebleu.metrics.chrf.CHRF`).
///
/// Character n-grams (1…`charOrder`, whitespace removed unless `whitespace`) and, for chrF++,
/// word n-grams (1…`wordOrder`) of words with one leading or trailing ASCII punctuation mark split
/// off. Per segment the reference with the best sentence-level score is kept; the corpus score
/// averages precision and recall over the orders with both hypothesis and reference n-grams
/// (sacrebleu's effective-order default) or uses epsilon smoothing.
public struct ChrF: Sendable {
    /// Every setting that changes a chrF number.
    public struct Configuration: Sendable, Equatable {
        /// Character n-gram order (sacrebleu default 6), 1…6.
        public var charOrder: Int
        /// Word n-gram order: 0 for chrF, 2 for chrF++ (at most 4).
        public var wordOrder: Int
        /// Weight of recall against precision.
        public var beta: Int
        /// Lowercase first (Python `str.lower()`).
        public var lowercase: Bool
        /// Keep whitespace inside character n-grams.
        public var whitespace: Bool
        /// chrF++.py-style epsilon smoothing instead of effective order.
        public var epsilonSmoothing: Bool

        /// Creates a configuration; the defaults are sacrebleu's chrF.
        public init(charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                    whitespace: Bool = false, epsilonSmoothing: Bool = false) {
            self.charOrder = charOrder
            self.wordOrder = wordOrder
            self.beta = beta
            self.lowercase = lowercase
            self.whitespace = whitespace
            self.epsilonSmoothing = epsilonSmoothing
        }

        /// chrF++ (word order 2).
        public static var plusPlus: Configuration { Configuration(wordOrder: 2) }
    }

    /// The settings of this metric.
    public let configuration: Configuration

    /// Creates the metric.
    /// - Throws: ``MetricsError/invalidOption(name:value:reason:)`` for orders or beta out of range.
    public init(_ configuration: Configuration = Configuration()) throws {
        guard (1...6).contains(configuration.charOrder) else {
            throw MetricsError.invalidOption(name: "char order", value: String(configuration.charOrder), reason: "must be 1 to 6")
        }
        guard (0...4).contains(configuration.wordOrder) else {
            throw MetricsError.invalidOption(name: "word order", value: String(configuration.wordOrder), reason: "must be 0 to 4")
        }
        guard (1...1000).contains(configuration.beta) else {
            throw MetricsError.invalidOption(name: "beta", value: String(configuration.beta), reason: "must be 1 to 1,000")
        }
        self.configuration = configuration
    }

    /// `chrF2` or `chrF2++`, as sacrebleu names the score.
    public var name: String { "chrF\(configuration.beta)" + String(repeating: "+", count: configuration.wordOrder) }

    /// Number of orders (character + word).
    public var order: Int { configuration.charOrder + configuration.wordOrder }

    /// sacrebleu's signature: `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:assay-X`.
    public func signature(references: ReferenceCount, bootstrap: (resamples: Int, seed: UInt64)? = nil) -> Signature {
        var parts: [(String, String)] = [("nrefs", references.description)]
        if let bootstrap {
            parts.append(("bs", String(bootstrap.resamples)))
            parts.append(("rs", String(bootstrap.seed)))
        }
        parts += [
            ("case", configuration.lowercase ? "lc" : "mixed"),
            ("eff", configuration.epsilonSmoothing ? "no" : "yes"),
            ("nc", String(configuration.charOrder)),
            ("nw", String(configuration.wordOrder)),
            ("space", configuration.whitespace ? "yes" : "no"),
        ]
        return Signature(parts)
    }

    /// The score in 0…100 of summed statistics (sacrebleu's `_compute_f_score`).
    /// - Parameter stats: flat `[hyp, ref, match]` triples per order.
    public func score(_ stats: [Int]) -> Double {
        let eps = 1e-16
        let factor = Double(configuration.beta * configuration.beta)
        var score = 0.0, averagePrecision = 0.0, averageRecall = 0.0
        var effectiveOrder = 0
        for i in 0..<order {
            let nHyp = stats[3 * i], nRef = stats[3 * i + 1], nMatch = stats[3 * i + 2]
            let precision = nHyp > 0 ? Double(nMatch) / Double(nHyp) : eps
            let recall = nRef > 0 ? Double(nMatch) / Double(nRef) : eps
            let denominator = factor * precision + recall
            score += denominator > 0 ? (1 + factor) * precision * recall / denominator : eps
            if nHyp > 0 && nRef > 0 {
                averagePrecision += precision
                averageRecall += recall
                effectiveOrder += 1
            }
        }
        if configuration.epsilonSmoothing { return 100 * score / Double(order) }
        if effectiveOrder == 0 {
            averagePrecision = 0
            averageRecall = 0
        } else {
            averagePrecision /= Double(effectiveOrder)
            averageRecall /= Double(effectiveOrder)
        }
        guard averagePrecision + averageRecall != 0 else { return 0 }
        let f = (1 + factor) * averagePrecision * averageRecall / (factor * averagePrecision + averageRecall)
        return 100 * f
    }

    /// Element-wise sum of per-segment statistics.
    public func sum<S: Sequence>(_ items: S) -> [Int] where S.Element == [Int] {
        var total = [Int](repeating: 0, count: 3 * order)
        for item in items { for i in total.indices { total[i] += item[i] } }
        return total
    }

    /// Statistics of every segment; `references[i]` are the references of `hypotheses[i]`.
    /// - Precondition: both arrays have the same count.
    public func statistics(hypotheses: [String], references: [[String]]) -> [[Int]] {
        precondition(hypotheses.count == references.count, "one reference list per hypothesis")
        let n = hypotheses.count
        let results = ResultBuffer<[Int]>(count: n, initial: [])
        let chunkCount = max(1, min(n / 256, ProcessInfo.processInfo.activeProcessorCount * 4))
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let interner = TokenInterner()
            for i in (n * chunk / chunkCount)..<(n * (chunk + 1) / chunkCount) {
                results[i] = statistics(hypothesis: hypotheses[i], references: references[i], interner: interner)
            }
        }
        return results.values
    }

    /// Statistics of one segment: `[hyp, ref, match]` per order against the best reference.
    public func statistics(hypothesis: String, references: [String]) -> [Int] {
        let interner = TokenInterner()
        return statistics(hypothesis: hypothesis, references: references, interner: interner)
    }

    private func statistics(hypothesis: String, references: [String], interner: TokenInterner) -> [Int] {
        interner.reset()
        let hypothesisNGrams = ngrams(hypothesis, interner: interner)
        var best: [Int] = []
        var bestScore = -1.0
        for reference in references {
            let referenceNGrams = ngrams(reference, interner: interner)
            var stats: [Int] = []
            stats.reserveCapacity(3 * order)
            for (h, r) in zip(hypothesisNGrams, referenceNGrams) {
                var match = 0, hypCount = 0
                for (key, count) in h {
                    hypCount += count
                    if let rc = r[key] { match += min(count, rc) }
                }
                stats += [r.isEmpty ? 0 : hypCount, r.values.reduce(0, +), match]
            }
            let f = score(stats)
            if f > bestScore {
                bestScore = f
                best = stats
            }
        }
        return best
    }

    /// Character n-gram counters (orders 1…charOrder) followed by word n-gram counters.
    private func ngrams(_ segment: String, interner: TokenInterner) -> [[NGramKey: Int]] {
        let text = configuration.lowercase ? PythonText.lower(segment) : segment
        var scalars: [UInt32] = []
        scalars.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars where configuration.whitespace || !PythonText.isSpace(s.value) {
            scalars.append(s.value)
        }
        var result: [[NGramKey: Int]] = []
        for n in 1...configuration.charOrder {
            var counts: [NGramKey: Int] = [:]
            if scalars.count >= n {
                for start in 0...(scalars.count - n) { counts[NGramKey(scalars: scalars, start: start, order: n), default: 0] += 1 }
            }
            result.append(counts)
        }
        guard configuration.wordOrder > 0 else { return result }
        let words = Self.separatePunctuation(text)
        var ids: [Int32] = []
        for word in words {
            let bytes = Array(word.utf8)
            ids.append(interner.id(of: bytes, 0..<bytes.count))
        }
        for n in 1...configuration.wordOrder {
            var counts: [NGramKey: Int] = [:]
            if ids.count >= n {
                for start in 0...(ids.count - n) { counts[NGramKey(ids: ids, start: start, order: n), default: 0] += 1 }
            }
            result.append(counts)
        }
        return result
    }

    private static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.map(\.value))

    /// sacrebleu's `_remove_punctuation`: words of more than one code point lose a trailing
    /// ASCII punctuation mark, or else a leading one, as a separate word.
    static func separatePunctuation(_ text: String) -> [Substring] {
        var words: [Substring] = []
        for word in PythonText.split(text) {
            let scalars = word.unicodeScalars
            guard scalars.count > 1 else { words.append(word); continue }
            let last = scalars.index(before: scalars.endIndex)
            let second = scalars.index(after: scalars.startIndex)
            if punctuation.contains(scalars[last].value) {
                words.append(Substring(scalars[..<last]))
                words.append(Substring(scalars[last...]))
            } else if punctuation.contains(scalars[scalars.startIndex].value) {
                words.append(Substring(scalars[..<second]))
                words.append(Substring(scalars[second...]))
            } else {
                words.append(word)
            }
        }
        return words
    }
}
