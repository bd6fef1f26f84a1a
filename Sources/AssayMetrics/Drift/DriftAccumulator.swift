import AssayCore
import Foundation

/// Streaming statistics of a candidate model against a reference on the same tokens — what
/// `llama-perplexity --kl-divergence` reports, with the same formulas (see docs/drift.md): per
/// token the NLL of the correct token under both models, the KL divergence KL(base ‖ candidate)
/// over the whole vocabulary, Δp = p_candidate − p_base of the correct token, and whether the
/// two top tokens agree. Sums are kept for means and uncertainties, and the per-token KLD and Δp
/// values (two floats a token) for percentiles.
///
/// Unlike llama.cpp, whose base file stores log-probabilities in 16 bits and skips base
/// probabilities below e⁻¹⁶, every value here is full precision over the whole vocabulary.
public struct DriftAccumulator: Sendable, Equatable {
    public private(set) var count = 0
    var sumNLL = 0.0, sumNLL2 = 0.0, sumNLLBase = 0.0, sumNLLBase2 = 0.0, sumNLLNLLBase = 0.0
    var sumKLD = 0.0, sumKLD2 = 0.0, sumPDiff = 0.0, sumPDiff2 = 0.0, sumPDiff4 = 0.0
    var sameTop = 0
    /// Top-k drift only: the sum of the reference's probability outside the tokens both top-k
    /// lists name, and how many positions added one.
    var sumOutside = 0.0, outsideCount = 0
    public private(set) var kldValues: [Float] = []
    public private(set) var pDiffValues: [Float] = []

    public init() {}

    /// Adds one token from the two models' statistics of it.
    /// - Parameters:
    ///   - nll: −ln p_candidate(correct token); `nllBase` the same under the reference.
    ///   - kld: KL(base ‖ candidate) over the vocabulary at this position.
    ///   - sameTop: whether both models' most likely tokens are the same.
    ///   - outside: with top-k log-probabilities, the reference's probability outside the tokens
    ///     both lists name (``topKDivergence(base:candidate:)``); nil over the whole vocabulary.
    public mutating func add(nll: Double, nllBase: Double, kld: Double, sameTop: Bool, outside: Double? = nil) {
        if let outside {
            sumOutside += outside
            outsideCount += 1
        }
        count += 1
        sumNLL += nll
        sumNLL2 += nll * nll
        sumNLLBase += nllBase
        sumNLLBase2 += nllBase * nllBase
        sumNLLNLLBase += nll * nllBase
        sumKLD += kld
        sumKLD2 += kld * kld
        let pDiff = exp(-nll) - exp(-nllBase)
        sumPDiff += pDiff
        sumPDiff2 += pDiff * pDiff
        sumPDiff4 += pDiff * pDiff * pDiff * pDiff
        if sameTop { self.sameTop += 1 }
        kldValues.append(Float(kld))
        pDiffValues.append(Float(pDiff))
    }

    /// Merges another accumulator (a later stretch of tokens).
    public mutating func merge(_ other: DriftAccumulator) {
        count += other.count
        sumNLL += other.sumNLL
        sumNLL2 += other.sumNLL2
        sumNLLBase += other.sumNLLBase
        sumNLLBase2 += other.sumNLLBase2
        sumNLLNLLBase += other.sumNLLNLLBase
        sumKLD += other.sumKLD
        sumKLD2 += other.sumKLD2
        sumPDiff += other.sumPDiff
        sumPDiff2 += other.sumPDiff2
        sumPDiff4 += other.sumPDiff4
        sameTop += other.sameTop
        sumOutside += other.sumOutside
        outsideCount += other.outsideCount
        kldValues += other.kldValues
        pDiffValues += other.pDiffValues
    }

    /// The sums and counts by name — with ``kldValues`` and ``pDiffValues``, everything the
    /// accumulator holds: a shard's chunk travels as these and ``init(sums:kld:deltaP:)`` gives
    /// back the same accumulator, bit for bit.
    public var sums: [String: Double] {
        ["count": Double(count), "nll": sumNLL, "nll2": sumNLL2, "nll_base": sumNLLBase, "nll_base2": sumNLLBase2,
         "nll_nll_base": sumNLLNLLBase, "kld": sumKLD, "kld2": sumKLD2, "dp": sumPDiff, "dp2": sumPDiff2, "dp4": sumPDiff4,
         "same_top": Double(sameTop), "outside": sumOutside, "outside_count": Double(outsideCount)]
    }

    /// The accumulator ``sums`` and the per-token values describe; nil when a sum is missing, a
    /// count is not a whole number in range, the value lists do not hold `count` entries each, a
    /// sum of squares or a KLD is negative, or the KLD and Δp sums disagree with the values beyond
    /// their rounding to Float (a hand-edited shard file).
    public init?(sums: [String: Double], kld: [Float], deltaP: [Float]) {
        func whole(_ key: String) -> Int? {
            guard let v = sums[key], v >= 0, v <= 1e15, v == v.rounded() else { return nil }
            return Int(v)
        }
        guard let count = whole("count"), let sameTop = whole("same_top"), let outsideCount = whole("outside_count"),
              sameTop <= count, outsideCount <= count, kld.count == count, deltaP.count == count,
              let nll = sums["nll"], let nll2 = sums["nll2"], let nllBase = sums["nll_base"], let nllBase2 = sums["nll_base2"],
              let cross = sums["nll_nll_base"], let sumKLD = sums["kld"], let sumKLD2 = sums["kld2"], let dp = sums["dp"],
              let dp2 = sums["dp2"], let dp4 = sums["dp4"], let outside = sums["outside"] else { return nil }
        // NaN (a broken model's value, carried as null) passes each check: the run then reports it as not finite.
        guard ![nll2, nllBase2, sumKLD, sumKLD2, dp2, dp4, outside].contains(where: { $0 < 0 }), !kld.contains(where: { $0 < 0 }) else { return nil }
        func agrees(_ sum: Double, _ values: [Float]) -> Bool {
            let total = values.reduce(0.0) { $0 + Double($1) }, magnitude = values.reduce(0.0) { $0 + abs(Double($1)) }
            return !total.isFinite || !sum.isFinite || abs(total - sum) <= 1e-6 * magnitude + 1e-300
        }
        guard agrees(sumKLD, kld), agrees(dp, deltaP) else { return nil }
        self.count = count
        self.sameTop = sameTop
        self.outsideCount = outsideCount
        (sumNLL, sumNLL2, sumNLLBase, sumNLLBase2, sumNLLNLLBase) = (nll, nll2, nllBase, nllBase2, cross)
        (self.sumKLD, self.sumKLD2, sumPDiff, sumPDiff2, sumPDiff4, sumOutside) = (sumKLD, sumKLD2, dp, dp2, dp4, outside)
        kldValues = kld
        pDiffValues = deltaP
    }

    /// llama.cpp's `mean_and_uncertainty`: the mean and sqrt(variance/(n − 1)), the latter 0 for
    /// ten values or fewer.
    static func meanAndUncertainty(_ sum: Double, _ sum2: Double, _ n: Int) -> (Double, Double) {
        guard n >= 1 else { return (0, 0) }
        let f = sum / Double(n)
        let v = sum2 / Double(n) - f * f
        return (f, v > 0 && n > 10 ? (v / Double(n - 1)).squareRoot() : 0)
    }

    /// llama.cpp's `covariance` of two per-token series, 0 below ten values.
    static func covariance(_ a: Double, _ b: Double, _ ab: Double, _ n: Int) -> Double {
        guard n >= 10 else { return 0 }
        return (ab / Double(n) - (a / Double(n)) * (b / Double(n))) / Double(n - 1)
    }

    /// llama.cpp's percentile: linear interpolation at fraction · (n − 1) of the sorted values.
    static func percentile(_ sorted: [Float], _ fraction: Float) -> Double {
        if fraction <= 0 { return Double(sorted.first!) }
        if fraction >= 1 { return Double(sorted.last!) }
        var p = fraction * Float(sorted.count - 1)
        let ip = Int(p)
        p -= Float(ip)
        return Double((1 - p) * sorted[ip] + p * sorted[min(ip + 1, sorted.count - 1)])
    }

    /// The median as llama.cpp takes it (mean of the middle two for an even count).
    static func median(_ sorted: [Float]) -> Double {
        sorted.count % 2 == 0 ? Double(0.5 * (sorted[sorted.count / 2] + sorted[sorted.count / 2 - 1])) : Double(sorted[sorted.count / 2])
    }

    /// Every statistic; nil when no token was added.
    public var summary: DriftSummary? {
        guard count > 0 else { return nil }
        let n = count
        let logPPL = Self.meanAndUncertainty(sumNLL, sumNLL2, n), logPPLBase = Self.meanAndUncertainty(sumNLLBase, sumNLLBase2, n)
        let cov = Self.covariance(sumNLL, sumNLLBase, sumNLLNLLBase, n)
        let ratio = logPPL.0 - logPPLBase.0
        let ratioUnc = (logPPL.1 * logPPL.1 + logPPLBase.1 * logPPLBase.1 - 2 * cov).squareRoot()
        let ppl = exp(logPPL.0), pplBase = exp(logPPLBase.0)
        let pplUnc = ppl * logPPL.1, pplBaseUnc = pplBase * logPPLBase.1
        let pplCov = ppl * pplBase * cov
        let kld = Self.meanAndUncertainty(sumKLD, sumKLD2, n)
        let dp = Self.meanAndUncertainty(sumPDiff, sumPDiff2, n)
        let mse = Self.meanAndUncertainty(sumPDiff2, sumPDiff4, n)
        let rms = mse.0.squareRoot()
        let same = Double(sameTop) / Double(n)
        let k = kldValues.sorted(), d = pDiffValues.sorted()
        let fractions: [Float] = [0.999, 0.99, 0.95, 0.9, 0.75, 0.25, 0.1, 0.05, 0.01, 0.001]
        return DriftSummary(
            tokens: n, pplCandidate: ppl, pplCandidateStderr: pplUnc, pplBase: pplBase, pplBaseStderr: pplBaseUnc,
            corLnPPL: logPPL.1 > 0 && logPPLBase.1 > 0 ? cov / (logPPL.1 * logPPLBase.1) : nil,
            lnPPLRatio: ratio, lnPPLRatioStderr: ratioUnc.isNaN ? 0 : ratioUnc, pplRatio: exp(ratio), pplRatioStderr: exp(ratio) * (ratioUnc.isNaN ? 0 : ratioUnc),
            pplDifference: ppl - pplBase, pplDifferenceStderr: (pplUnc * pplUnc + pplBaseUnc * pplBaseUnc - 2 * pplCov).squareRoot(),
            meanKLD: kld.0, meanKLDStderr: kld.1,
            kldPercentiles: Dictionary(uniqueKeysWithValues: fractions.map { ($0, Self.percentile(k, $0)) }),
            kldMax: Double(k.last!), kldMedian: Self.median(k), kldMin: Double(k.first!),
            meanDeltaP: dp.0, meanDeltaPStderr: dp.1,
            deltaPPercentiles: Dictionary(uniqueKeysWithValues: fractions.map { ($0, Self.percentile(d, $0)) }),
            deltaPMax: Double(d.last!), deltaPMedian: Self.median(d), deltaPMin: Double(d.first!),
            rmsDeltaP: rms, rmsDeltaPStderr: rms > 0 ? 0.5 / rms * mse.1 : 0,
            sameTop: same, sameTopStderr: n > 1 ? (same * (1 - same) / Double(n - 1)).squareRoot() : 0,
            outsideTopK: outsideCount > 0 ? sumOutside / Double(outsideCount) : nil)
    }

    /// KL(base ‖ candidate) from the two models' top-k log-probabilities at one position, when the
    /// whole rows are not available (a served model): the divergence of the two distributions
    /// over the cells {each token both lists name} and {every other token}, whose probabilities
    /// both lists give exactly (the rest is 1 minus the named ones). Merging tokens into one cell
    /// never increases a KL divergence (the data-processing inequality), so this is a lower bound
    /// of the full-vocabulary KLD, and equals it when the named tokens hold all the mass.
    ///
    /// Log-probabilities come rounded (a server sends float32; a nearly certain token's comes back
    /// as 0), so the candidate's rest, 1 − Σ q, could read 0 where it is 1e-8 and blow the term
    /// p·ln(p/q) up. The rest is taken as max(0, 1 − Σ q) + ε with ε = 1e-6 per named token and one
    /// more: at least the true rest, and a larger q only lowers p·ln(p/q), so the value stays a
    /// lower bound. Entries with a negative token (a server's token that has no id) and repeats
    /// fall into the rest.
    /// - Returns: the bound and `outside`, the reference's probability in the merged cell (how
    ///   much the bound may miss).
    public static func topKDivergence(base: [(token: Int, logProbability: Double)],
                                      candidate: [(token: Int, logProbability: Double)]) -> (kld: Double, outside: Double) {
        var candidateByToken: [Int: Double] = [:]
        for entry in candidate where entry.token >= 0 && candidateByToken[entry.token] == nil {
            candidateByToken[entry.token] = min(0, entry.logProbability)
        }
        var kld = 0.0, baseNamed = 0.0, candidateNamed = 0.0, shared = 0
        var seen = Set<Int>()
        for entry in base where entry.token >= 0 && seen.insert(entry.token).inserted {
            guard let c = candidateByToken[entry.token] else { continue }
            let b = min(0, entry.logProbability), p = exp(b)
            kld += p * (b - c)
            baseNamed += p
            candidateNamed += exp(c)
            shared += 1
        }
        let slack = 1e-6 * Double(shared + 1)
        let baseRest = max(0, 1 - baseNamed), candidateRest = max(0, 1 - candidateNamed) + slack
        if baseRest > 0 { kld += baseRest * (log(baseRest) - log(candidateRest)) }
        return (max(0, kld), baseRest)
    }
}

/// The statistics of ``DriftAccumulator``; probabilities as fractions (not percent).
public struct DriftSummary: Sendable, Equatable {
    public var tokens: Int
    public var pplCandidate: Double, pplCandidateStderr: Double
    public var pplBase: Double, pplBaseStderr: Double
    /// Pearson correlation of the per-token ln-probabilities (llama.cpp's Cor(ln PPL(Q), ln PPL(base))).
    public var corLnPPL: Double?
    public var lnPPLRatio: Double, lnPPLRatioStderr: Double
    public var pplRatio: Double, pplRatioStderr: Double
    public var pplDifference: Double, pplDifferenceStderr: Double
    public var meanKLD: Double, meanKLDStderr: Double
    /// Fraction (0.999, 0.99, 0.95, 0.9, 0.75, 0.25, 0.1, 0.05, 0.01, 0.001) → value.
    public var kldPercentiles: [Float: Double]
    public var kldMax: Double, kldMedian: Double, kldMin: Double
    public var meanDeltaP: Double, meanDeltaPStderr: Double
    public var deltaPPercentiles: [Float: Double]
    public var deltaPMax: Double, deltaPMedian: Double, deltaPMin: Double
    public var rmsDeltaP: Double, rmsDeltaPStderr: Double
    public var sameTop: Double, sameTopStderr: Double
    /// Top-k drift: the mean probability the reference puts outside the tokens both lists name.
    public var outsideTopK: Double? = nil
}

extension DriftSummary: Encodable {
    /// The `--format json` fields (documented in docs/drift.md).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        for (name, value) in [("ppl_base", pplBase), ("ppl_base_stderr", pplBaseStderr), ("ppl_candidate", pplCandidate),
                              ("ppl_candidate_stderr", pplCandidateStderr), ("ln_ppl_ratio", lnPPLRatio),
                              ("ln_ppl_ratio_stderr", lnPPLRatioStderr), ("ppl_ratio", pplRatio), ("ppl_ratio_stderr", pplRatioStderr),
                              ("ppl_diff", pplDifference), ("ppl_diff_stderr", pplDifferenceStderr), ("cor_ln_ppl", corLnPPL),
                              ("mean_kld", meanKLD), ("mean_kld_stderr", meanKLDStderr), ("kld_max", kldMax), ("kld_median", kldMedian),
                              ("kld_min", kldMin), ("mean_dp", meanDeltaP), ("mean_dp_stderr", meanDeltaPStderr), ("dp_max", deltaPMax),
                              ("dp_median", deltaPMedian), ("dp_min", deltaPMin), ("rms_dp", rmsDeltaP), ("rms_dp_stderr", rmsDeltaPStderr),
                              ("same_top_p", sameTop), ("same_top_p_stderr", sameTopStderr)] as [(String, Double?)] {
            try c.encode(value, name)
        }
        try c.encode(tokens, "tokens_scored")
        for (suffix, fraction) in [("p999", Float(0.999)), ("p99", 0.99), ("p95", 0.95), ("p90", 0.9), ("p10", 0.1), ("p05", 0.05),
                                   ("p01", 0.01), ("p001", 0.001)] {
            try c.encode(kldPercentiles[fraction], "kld_" + suffix)
            try c.encode(deltaPPercentiles[fraction], "dp_" + suffix)
        }
        try c.encode(deltaPPercentiles[0.75], "dp_p75")
        try c.encode(deltaPPercentiles[0.25], "dp_p25")
    }
}
