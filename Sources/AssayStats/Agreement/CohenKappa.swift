import Foundation

/// Weighting of disagreements between ordered categories.
public enum KappaWeighting: String, Sendable, CaseIterable, Codable {
    /// Every disagreement counts fully (Cohen's original kappa).
    case none
    /// Disagreement weight |i − j| / (k − 1).
    case linear
    /// Disagreement weight (i − j)² / (k − 1)².
    case quadratic
}

/// Cohen's kappa of two raters with its asymptotic standard error and 95 % interval, exactly as
/// statsmodels 0.15 `cohens_kappa` computes them (the kappa itself equals scikit-learn's
/// `cohen_kappa_score` with the same weights and label order).
public struct CohenKappa: Sendable, Equatable, Codable {
    /// Number of items both raters rated.
    public var n: Int
    /// Observed (weighted) agreement: 1 − Σ w·p_observed.
    public var observed: Double
    /// Chance (weighted) agreement: 1 − Σ w·p_expected.
    public var expected: Double
    /// Kappa; nil when undefined (see ``reason``).
    public var kappa: Double?
    /// Asymptotic standard error (statsmodels' `std_kappa`).
    public var ase: Double?
    /// kappa − 1.959964·ASE.
    public var ciLow: Double?
    /// kappa + 1.959964·ASE.
    public var ciHigh: Double?
    /// Why kappa is nil, if it is.
    public var reason: String?

    /// z for a two-sided 95 % normal interval (`scipy.stats.norm.isf(0.025)`).
    public static let z975 = 1.959963984540054

    /// Kappa of the confusion `table` (`table[i][j]` = items rater A put in category i and rater
    /// B in category j; categories in their declared order).
    /// - Precondition: `table` is square.
    public init(table: [[Double]], weighting: KappaWeighting) {
        let k = table.count
        precondition(table.allSatisfy { $0.count == k }, "confusion table must be square")
        let nobs = table.reduce(0) { $0 + $1.reduce(0, +) }
        n = Int(nobs)
        observed = .nan
        expected = .nan
        guard nobs >= 2 else {
            reason = "fewer than 2 shared items"
            observed = 0
            expected = 0
            return
        }
        var freqRow = [Double](repeating: 0, count: k), freqCol = [Double](repeating: 0, count: k)
        for i in 0..<k {
            for j in 0..<k {
                freqRow[i] += table[i][j]
                freqCol[j] += table[i][j]
            }
        }
        freqRow = freqRow.map { $0 / nobs }
        freqCol = freqCol.map { $0 / nobs }
        // probExp[i][j] = freqCol[j] * freqRow[i]
        func probExp(_ i: Int, _ j: Int) -> Double { freqCol[j] * freqRow[i] }
        var agreeExp = 0.0
        for i in 0..<k { agreeExp += probExp(i, i) }

        switch weighting {
        case .none:
            var agree = 0.0
            for i in 0..<k { agree += table[i][i] }
            observed = agree / nobs
            expected = agreeExp
            guard 1 - agreeExp > 0 else {
                reason = "only one category in use: chance agreement is 1"
                return
            }
            let kappa = (agree / nobs - agreeExp) / (1 - agreeExp)
            var termA = 0.0
            for i in 0..<k {
                let t = 1 - (freqRow[i] + freqCol[i]) * (1 - kappa)
                termA += table[i][i] / nobs * t * t
            }
            var termB = 0.0
            for i in 0..<k {
                for j in 0..<k where i != j {
                    let s = freqCol[i] + freqRow[j]
                    termB += table[i][j] / nobs * s * s
                }
            }
            termB *= (1 - kappa) * (1 - kappa)
            let termC = (kappa - agreeExp * (1 - kappa)) * (kappa - agreeExp * (1 - kappa))
            let variance = (termA + termB - termC) / ((1 - agreeExp) * (1 - agreeExp)) / nobs
            set(kappa: kappa, variance: variance)
        case .linear, .quadratic:
            guard k >= 2 else {
                reason = "a single category: weighted kappa is undefined"
                return
            }
            let span = Double(k - 1)
            func weight(_ i: Int, _ j: Int) -> Double {
                let d = Double(i - j)
                return weighting == .linear ? abs(d) / span : d * d / (span * span)
            }
            var weightedTable = 0.0, weightedExp = 0.0
            for i in 0..<k {
                for j in 0..<k {
                    weightedTable += weight(i, j) * table[i][j]
                    weightedExp += weight(i, j) * probExp(i, j)
                }
            }
            observed = 1 - weightedTable / nobs
            expected = 1 - weightedExp
            guard weightedExp > 0 else {
                reason = "only one category in use: chance disagreement is 0"
                return
            }
            let kappa = 1 - weightedTable / nobs / weightedExp
            // statsmodels: w = 1 − weights; w_row[i] = Σ_j freqCol[j]·w[i][j]; w_col[j] = Σ_i freqRow[i]·w[i][j]
            var wRow = [Double](repeating: 0, count: k), wCol = [Double](repeating: 0, count: k)
            var agreeWExp = 0.0
            for i in 0..<k {
                for j in 0..<k {
                    let w = 1 - weight(i, j)
                    wRow[i] += freqCol[j] * w
                    wCol[j] += freqRow[i] * w
                    agreeWExp += w * freqCol[j] * freqRow[i]
                }
            }
            var termA = 0.0
            for i in 0..<k {
                for j in 0..<k {
                    let t = (1 - weight(i, j)) - (wCol[j] + wRow[i]) * (1 - kappa)
                    termA += table[i][j] / nobs * t * t
                }
            }
            let fac = 1 / ((1 - agreeWExp) * (1 - agreeWExp) * nobs)
            let c = kappa - agreeWExp * (1 - kappa)
            let variance = (termA - c * c) * fac
            set(kappa: kappa, variance: variance)
        }
    }

    private mutating func set(kappa: Double, variance: Double) {
        guard kappa.isFinite else {
            reason = "kappa is undefined for this table"
            return
        }
        self.kappa = kappa
        if variance.isFinite, variance >= 0 {
            let se = variance.squareRoot()
            ase = se
            ciLow = kappa - Self.z975 * se
            ciHigh = kappa + Self.z975 * se
        }
    }

    /// The confusion table of paired labels (category indices in 0..<categories).
    public static func table(_ pairs: [(Int, Int)], categories: Int) -> [[Double]] {
        var table = [[Double]](repeating: [Double](repeating: 0, count: categories), count: categories)
        for (a, b) in pairs { table[a][b] += 1 }
        return table
    }
}

/// Landis & Koch (1977) wording for kappa-like coefficients.
public enum LandisKoch {
    /// "poor" (< 0), "slight" (≤ 0.20), "fair" (≤ 0.40), "moderate" (≤ 0.60), "substantial" (≤ 0.80),
    /// "almost perfect" (> 0.80).
    public static func label(_ value: Double) -> String {
        switch value {
        case ..<0: return "poor"
        case ...0.20: return "slight"
        case ...0.40: return "fair"
        case ...0.60: return "moderate"
        case ...0.80: return "substantial"
        default: return "almost perfect"
        }
    }
}
