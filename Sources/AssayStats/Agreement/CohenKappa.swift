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
        var cells: [Cell] = []
        for (i, row) in table.enumerated() {
            for (j, count) in row.enumerated() where count != 0 { cells.append(Cell(row: i, column: j, count: count)) }
        }
        self.init(cells: cells, categories: k, weighting: weighting)
    }

    /// Kappa of paired labels: `pairs[n]` = (category rater A gave item n, category rater B gave
    /// it), indices in `0..<categories`.
    public init(pairs: [(Int, Int)], categories: Int, weighting: KappaWeighting) {
        self.init(cells: pairs.map { Cell(row: $0.0, column: $0.1, count: 1) }, categories: categories, weighting: weighting)
    }

    /// One nonzero cell of a confusion table.
    struct Cell {
        var row: Int, column: Int, count: Double
    }

    /// The statistics from the table's nonzero cells and its marginals: time and memory grow with
    /// the cells and the categories, never with categories², so numeric scores with thousands of
    /// distinct values (each a category) cost what five do.
    ///
    /// One variance form serves all three weightings (unweighted kappa is weighted kappa with
    /// weight 1 off the diagonal). With p the cell proportions, r and c the marginals,
    /// D_i = Σ_j c_j·w_ij, E_j = Σ_i r_i·w_ij and W = Σ_i r_i·D_i (chance disagreement; 1 − p_e
    /// unweighted): κ = 1 − Σ p·w / W. statsmodels' variance, Σ p·t² − (κ − p_e(1 − κ))² with
    /// t_ij = 1 − w_ij − (2 − D_i − E_j)(1 − κ), subtracts two numbers near 1 when κ is near 1
    /// and can lose every digit on a long scale (2,000 categories, one off-by-one disagreement:
    /// 0 where the exact value is 7.49e-10); it equals Σ p·δ² with
    /// δ_ij = (D_i + E_j − W)(1 − κ) − w_ij, whose terms are all small, so
    /// variance = Σ p·δ² / (n·W²), and 1 − κ is taken as Σ p·w / W, not from κ. Perfect
    /// agreement has variance 0: ASE 0 and the interval [1, 1].
    init(cells: [Cell], categories k: Int, weighting: KappaWeighting) {
        let nobs = cells.reduce(0) { $0 + $1.count }
        n = Int(nobs)
        observed = .nan
        expected = .nan
        guard nobs >= 2 else {
            reason = "fewer than 2 shared items"
            observed = 0
            expected = 0
            return
        }
        if weighting != .none, k < 2 {
            reason = "a single category: weighted kappa is undefined"
            return
        }
        var freqRow = [Double](repeating: 0, count: k), freqCol = [Double](repeating: 0, count: k)
        for cell in cells {
            freqRow[cell.row] += cell.count
            freqCol[cell.column] += cell.count
        }
        freqRow = freqRow.map { $0 / nobs }
        freqCol = freqCol.map { $0 / nobs }
        let span = Double(max(k - 1, 1))
        func weight(_ i: Int, _ j: Int) -> Double {
            switch weighting {
            case .none: return i == j ? 0 : 1
            case .linear: return Double(abs(i - j)) / span
            case .quadratic: return Double((i - j) * (i - j)) / (span * span)
            }
        }
        let toRow = Self.weightedDistances(freqCol, weighting: weighting, span: span)
        let toColumn = Self.weightedDistances(freqRow, weighting: weighting, span: span)
        let disagreement = cells.reduce(0) { $0 + weight($1.row, $1.column) * $1.count } / nobs
        // Chance disagreement W, and kappa from the small numbers: unweighted as statsmodels does,
        // (p_o − p_e)/(1 − p_e), so independent raters get exactly 0 (1 − disagreement/W had given
        // −2.2e-16, read as "poor").
        var chance = 0.0, kappa = 0.0
        if weighting == .none {
            var agreeExp = 0.0
            for i in 0..<k { agreeExp += freqRow[i] * freqCol[i] }
            observed = cells.reduce(0) { $0 + ($1.row == $1.column ? $1.count : 0) } / nobs
            expected = agreeExp
            chance = 1 - agreeExp
            guard chance > 0 else {
                reason = "only one category in use: chance agreement is 1"
                return
            }
            kappa = (observed - agreeExp) / chance
        } else {
            for i in 0..<k { chance += freqRow[i] * toRow[i] }
            observed = 1 - disagreement
            expected = 1 - chance
            guard chance > 0 else {
                reason = "only one category in use: chance disagreement is 0"
                return
            }
            kappa = 1 - disagreement / chance
        }
        let oneMinusKappa = disagreement / chance
        var spread = 0.0
        for cell in cells {
            let delta = (toRow[cell.row] + toColumn[cell.column] - chance) * oneMinusKappa - weight(cell.row, cell.column)
            spread += cell.count / nobs * delta * delta
        }
        set(kappa: kappa, variance: spread / (nobs * chance * chance))
    }

    /// `result[i] = Σ_j mass[j]·weight(i, j)` for every i, in O(categories): unweighted as the
    /// mass off i, linear weights by running sums from each end (only additions of non-negative
    /// terms), quadratic ones from the first two moments about the mass's own mean (so no large
    /// terms cancel).
    static func weightedDistances(_ mass: [Double], weighting: KappaWeighting, span: Double) -> [Double] {
        let k = mass.count
        var result = [Double](repeating: 0, count: k)
        switch weighting {
        case .none:
            // The mass below i plus the mass above it, each summed from its own end.
            var below = 0.0
            for i in 0..<k {
                result[i] = below
                below += mass[i]
            }
            var above = 0.0
            for i in stride(from: k - 1, through: 0, by: -1) {
                result[i] += above
                above += mass[i]
            }
        case .linear:
            // below = Σ_{j<i} mass[j]·(i − j), grown by the mass below i at each step; above likewise.
            var below = 0.0, massBelow = 0.0
            for i in 0..<k {
                result[i] = below
                massBelow += mass[i]
                below += massBelow
            }
            var above = 0.0, massAbove = 0.0
            for i in stride(from: k - 1, through: 0, by: -1) {
                result[i] = (result[i] + above) / span
                massAbove += mass[i]
                above += massAbove
            }
        case .quadratic:
            let total = mass.reduce(0, +)
            guard total > 0 else { return result }
            var first = 0.0
            for j in 0..<k { first += mass[j] * Double(j) }
            let mean = first / total
            var centred = 0.0, second = 0.0
            for j in 0..<k {
                let d = Double(j) - mean
                centred += mass[j] * d
                second += mass[j] * d * d
            }
            for i in 0..<k {
                let d = Double(i) - mean
                result[i] = (d * d * total - 2 * d * centred + second) / (span * span)
            }
        }
        return result
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
