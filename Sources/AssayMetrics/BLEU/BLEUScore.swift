import Foundation

/// A BLEU score and the quantities sacrebleu reports with it.
public struct BLEUScore: Sendable, Equatable, Codable {
    /// BLEU in 0…100.
    public var score: Double
    /// Matched n-grams per order (after add-k smoothing, as sacrebleu reports them).
    public var counts: [Double]
    /// Hypothesis n-grams per order (after add-k smoothing, as sacrebleu reports them).
    public var totals: [Double]
    /// Smoothed precisions per order, in percent.
    public var precisions: [Double]
    /// Brevity penalty.
    public var brevityPenalty: Double
    /// Total hypothesis length.
    public var systemLength: Int
    /// Total (closest) reference length.
    public var referenceLength: Int
}

extension BLEU {
    /// The score of summed statistics, exactly as sacrebleu 2.6.0 `BLEU.compute_bleu`:
    /// brevity penalty exp(1 − r/c) when c < r (0 when c = 0); zero score when nothing matches;
    /// smoothing `exp` (NIST: 1/2^k for the k-th order without matches), `floor`, `add-k` (orders
    /// above 1), `none`; with effective order only orders with hypothesis n-grams count.
    public func score(_ stats: BLEUStatistics) -> BLEUScore {
        let maxOrder = configuration.maxOrder
        var correct = stats.correct.map(Double.init)
        var total = stats.total.map(Double.init)
        let sysLen = stats.hypothesisLength, refLen = stats.referenceLength
        var bp = 1.0
        if sysLen < refLen { bp = sysLen > 0 ? exp(1 - Double(refLen) / Double(sysLen)) : 0 }
        var precisions = [Double](repeating: 0, count: maxOrder)
        func result(_ score: Double) -> BLEUScore {
            BLEUScore(score: score, counts: correct, totals: total, precisions: precisions,
                      brevityPenalty: bp, systemLength: sysLen, referenceLength: refLen)
        }
        if !stats.correct.contains(where: { $0 != 0 }) { return result(0) }
        var smoothMteval = 1.0
        var effectiveOrder = maxOrder
        for n in 1...maxOrder {
            if case let .addK(k) = configuration.smoothing, n > 1 {
                correct[n - 1] += k
                total[n - 1] += k
            }
            if total[n - 1] == 0 { break }
            if configuration.effectiveOrder { effectiveOrder = n }
            if correct[n - 1] == 0 {
                switch configuration.smoothing {
                case .exp:
                    smoothMteval *= 2
                    precisions[n - 1] = 100 / (smoothMteval * total[n - 1])
                case let .floor(value):
                    precisions[n - 1] = 100 * value / total[n - 1]
                case .addK, .none:
                    break
                }
            } else {
                precisions[n - 1] = 100 * correct[n - 1] / total[n - 1]
            }
        }
        var logSum = 0.0
        for p in precisions[0..<effectiveOrder] { logSum += p == 0 ? -9_999_999_999 : log(p) }
        return result(bp * exp(logSum / Double(effectiveOrder)))
    }
}
