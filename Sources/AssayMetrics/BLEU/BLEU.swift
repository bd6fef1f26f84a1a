import AssayCore
import Dispatch
import Foundation

/// Corpus and sentence BLEU, identical to sacrebleu 2.6.0 (`sacrebleu.metrics.bleu.BLEU`).
///
/// Works on per-segment sufficient statistics (``BLEUStatistics``): compute them once with
/// ``statistics(hypotheses:references:)``, then sum for the corpus score, resample for
/// bootstrap intervals, or score each one for sentence BLEU.
public struct BLEU: Sendable {
    /// Smoothing of zero n-gram precisions (Chen & Cherry 2014), as sacrebleu names them.
    public enum Smoothing: Sendable, Equatable {
        /// NIST geometric smoothing (mteval-v13a), sacrebleu's default.
        case exp
        /// A fixed count in place of zero matches (default 0.1).
        case floor(Double)
        /// Add k to matches and totals of orders above 1 (default 1).
        case addK(Double)
        /// No smoothing.
        case none

        /// Names accepted by ``init(name:value:)``.
        public static let names = ["exp", "floor", "add-k", "none"]

        /// A smoothing method by sacrebleu's name, with sacrebleu's default value when `value` is nil.
        /// - Throws: ``MetricsError/unknownName(kind:name:suggestion:valid:)``;
        ///   ``MetricsError/invalidOption(name:value:reason:)`` for a value outside (0, 1,000,000]
        ///   (an infinite one made BLEU infinite or NaN).
        public init(name: String, value: Double? = nil) throws {
            if let value, !(value > 0 && value <= 1_000_000) {
                throw MetricsError.invalidOption(name: "smoothing value", value: String(value), reason: "must be greater than 0 and at most 1,000,000")
            }
            switch name {
            case "exp": self = .exp
            case "floor": self = .floor(value ?? 0.1)
            case "add-k": self = .addK(value ?? 1)
            case "none": self = .none
            default:
                throw MetricsError.unknownName(
                    kind: "smoothing method", name: name,
                    suggestion: Suggestions.closest(to: name, in: Self.names), valid: Self.names)
            }
        }

        /// The signature part: `exp`, `floor[0.10]`, `add-k[1.00]`, `none`.
        public var signature: String {
            switch self {
            case .exp: return "exp"
            case .none: return "none"
            case let .floor(v): return "floor[\(String(format: "%.2f", v))]"
            case let .addK(v): return "add-k[\(String(format: "%.2f", v))]"
            }
        }
    }

    /// Every setting that changes a BLEU number.
    public struct Configuration: Sendable, Equatable {
        /// MT tokenizer name (`13a`, `intl`, `zh`, `char`, `none`).
        public var tokenizer: String
        /// Lowercase hypotheses and references first (Python `str.lower()`).
        public var lowercase: Bool
        /// Smoothing method.
        public var smoothing: Smoothing
        /// Only orders with hypothesis n-grams count (sacrebleu's `effective_order`, always on
        /// for sentence BLEU).
        public var effectiveOrder: Bool
        /// Highest n-gram order (sacrebleu's `max_ngram_order`), 1…4.
        public var maxOrder: Int

        /// Creates a configuration; the defaults are sacrebleu's.
        public init(tokenizer: String = "13a", lowercase: Bool = false, smoothing: Smoothing = .exp,
                    effectiveOrder: Bool = false, maxOrder: Int = 4) {
            self.tokenizer = tokenizer
            self.lowercase = lowercase
            self.smoothing = smoothing
            self.effectiveOrder = effectiveOrder
            self.maxOrder = maxOrder
        }
    }

    /// The settings of this metric.
    public let configuration: Configuration
    private let tokenizer: any MTTokenizer

    /// Creates the metric.
    /// - Throws: ``MetricsError`` for an unknown tokenizer or an order outside 1…4.
    public init(_ configuration: Configuration = Configuration()) throws {
        guard (1...4).contains(configuration.maxOrder) else {
            throw MetricsError.invalidOption(
                name: "max order", value: String(configuration.maxOrder), reason: "must be 1 to 4")
        }
        self.configuration = configuration
        self.tokenizer = try MTTokenizers.make(configuration.tokenizer)
    }

    /// sacrebleu's signature: `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:assay-X`,
    /// with `bs:N|rs:SEED` after `nrefs` when a bootstrap interval was computed.
    public func signature(references: ReferenceCount, bootstrap: (resamples: Int, seed: UInt64)? = nil) -> Signature {
        var parts: [(String, String)] = [("nrefs", references.description)]
        if let bootstrap {
            parts.append(("bs", String(bootstrap.resamples)))
            parts.append(("rs", String(bootstrap.seed)))
        }
        parts.append(("case", configuration.lowercase ? "lc" : "mixed"))
        parts.append(("eff", configuration.effectiveOrder ? "yes" : "no"))
        parts.append(("tok", configuration.tokenizer))
        parts.append(("smooth", configuration.smoothing.signature))
        return Signature(parts)
    }

    /// Statistics of one hypothesis against its references (sacrebleu's
    /// `_compute_segment_statistics`: clipped counts against the per-n-gram maximum over the
    /// references, closest reference length with ties going to the shorter).
    public func statistics(hypothesis: String, references: [String]) -> BLEUStatistics {
        var scratch = Scratch()
        return statistics(hypothesis: hypothesis, references: references, scratch: &scratch)
    }

    /// Statistics of every segment; `references[i]` are the references of `hypotheses[i]`.
    /// Runs on all cores; the order of the result follows the input.
    /// - Precondition: both arrays have the same count.
    public func statistics(hypotheses: [String], references: [[String]]) -> [BLEUStatistics] {
        precondition(hypotheses.count == references.count, "one reference list per hypothesis")
        let n = hypotheses.count
        let empty = BLEUStatistics(order: configuration.maxOrder)
        let results = ResultBuffer(count: n, initial: empty)
        let chunkCount = max(1, min(n / 512, ProcessInfo.processInfo.activeProcessorCount * 4))
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            var scratch = Scratch()
            let lower = n * chunk / chunkCount, upper = n * (chunk + 1) / chunkCount
            for i in lower..<upper {
                results[i] = statistics(hypothesis: hypotheses[i], references: references[i], scratch: &scratch)
            }
        }
        return results.values
    }

    /// Reusable per-thread storage for n-gram counting.
    struct Scratch {
        let interner = TokenInterner()
        let maxReference = CountTable()
        let counts = CountTable()
        var ids: [Int32] = []
    }

    private func countNGrams(_ ids: [Int32], into counts: CountTable) {
        counts.reset()
        let maxOrder = configuration.maxOrder
        for n in 1...maxOrder where ids.count >= n {
            for start in 0...(ids.count - n) {
                counts.add(NGramKey(ids: ids, start: start, order: n))
            }
        }
    }

    /// Interns the tokens of `segment` into `scratch.ids`; returns the token count.
    private func internTokens(_ segment: String, _ scratch: inout Scratch) -> Int {
        let text = configuration.lowercase ? PythonText.lower(segment) : segment
        let bytes = tokenizer.tokenize(PythonText.rstrip(text))
        scratch.ids.removeAll(keepingCapacity: true)
        let interner = scratch.interner
        PythonText.forEachField(bytes) { range in scratch.ids.append(interner.id(of: bytes, range)) }
        return scratch.ids.count
    }

    private func statistics(hypothesis: String, references: [String], scratch: inout Scratch) -> BLEUStatistics {
        scratch.interner.reset()
        scratch.maxReference.reset()
        var referenceLengths: [Int] = []
        referenceLengths.reserveCapacity(references.count)
        if references.count == 1 {
            referenceLengths.append(internTokens(references[0], &scratch))
            countNGrams(scratch.ids, into: scratch.maxReference)
        } else {
            for reference in references {
                referenceLengths.append(internTokens(reference, &scratch))
                countNGrams(scratch.ids, into: scratch.counts)
                let maxReference = scratch.maxReference
                scratch.counts.forEach { key, count in maxReference.raise(key, to: count) }
            }
        }
        let hypothesisLength = internTokens(hypothesis, &scratch)
        countNGrams(scratch.ids, into: scratch.counts)
        var stats = BLEUStatistics(order: configuration.maxOrder)
        stats.hypothesisLength = hypothesisLength
        stats.referenceLength = Self.closestReferenceLength(hypothesisLength, referenceLengths)
        let maxReference = scratch.maxReference
        scratch.counts.forEach { key, count in
            let order = key.high != 0 ? (key.high >> 32 != 0 ? 4 : 3) : (key.low >> 32 != 0 ? 2 : 1)
            stats.total[order - 1] += Int(count)
            stats.correct[order - 1] += Int(min(count, maxReference.count(of: key)))
        }
        return stats
    }

    /// sacrebleu's `_get_closest_ref_len`: the reference length nearest to `hypothesisLength`,
    /// the shorter one on a tie; -1 without references.
    static func closestReferenceLength(_ hypothesisLength: Int, _ lengths: [Int]) -> Int {
        var closestDiff = -1, closestLength = -1
        for length in lengths {
            let diff = abs(hypothesisLength - length)
            if closestDiff == -1 || diff < closestDiff {
                closestDiff = diff
                closestLength = length
            } else if diff == closestDiff, length < closestLength {
                closestLength = length
            }
        }
        return closestLength
    }
}
