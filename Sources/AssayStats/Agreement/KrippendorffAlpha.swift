/// Krippendorff's alpha for any number of raters with missing ratings, as the `krippendorff`
/// package (0.9) computes it from value counts.
public enum KrippendorffAlpha {
    /// Level of measurement: decides the distance between two values.
    public enum Level: String, Sendable, CaseIterable, Codable {
        case nominal, ordinal, interval, ratio
    }

    /// Result: alpha, or nil with a reason.
    public struct Result: Sendable, Equatable, Codable {
        public var alpha: Double?
        public var level: Level
        public var reason: String?
    }

    /// Alpha from per-unit value counts.
    /// - Parameters:
    ///   - counts: `counts[u][v]` = raters who gave unit u the v-th value of `values`.
    ///   - values: the value domain in order (numbers for interval and ratio; for nominal and
    ///     ordinal only the order matters).
    public static func alpha(counts: [[Int]], values: [Double], level: Level) -> Result {
        alpha(units: ratingIndices(counts: counts), values: values, level: level)
    }

    /// Alpha from each unit's ratings: `units[u]` = the index in `values` of every rating unit u
    /// got. Time and memory grow with the ratings and the values, never with values² (except at
    /// the ratio level, whose expected disagreement visits every pair of values in use) nor with
    /// units × values, so numeric scores with thousands of distinct values are cheap.
    ///
    /// Same statistic as the coincidence-matrix form: a unit of m ratings adds n_c·n_k/(m − 1)
    /// for every ordered pair of its ratings' values; the values' pairable counts n_v make the
    /// expected disagreement Σ_c Σ_k n_c·n_k·δ(c, k) / (n − 1). The ordinal distance
    /// (Σ_{g=c..k} n_g − (n_c + n_k)/2)² is the squared difference of the values' mid-ranks
    /// (n_v/2 plus the counts below v), so ordinal and interval share the closed form
    /// 2·n·Σ_v n_v·(x_v − x̄)² for their expected disagreement.
    public static func alpha(units: [[Int]], values: [Double], level: Level) -> Result {
        let v = values.count
        guard v > 1 else { return Result(alpha: nil, level: level, reason: "fewer than two values in the domain") }
        let pairable = units.filter { $0.count > 1 }
        guard !pairable.isEmpty else {
            return Result(alpha: nil, level: level, reason: "no unit has ratings from at least two raters")
        }
        // Interval and ratio alpha do not change when every value is multiplied by one constant:
        // values beyond 10^100 are brought down by a power of two (exact), so that their squared
        // differences and sums cannot overflow (±1e200 had given inf/inf = NaN), and values below
        // 10^-100 up, so that their squares do not underflow (1e-200 had given "one value in
        // use"). Each value's exponent moves, so subnormals (whose 2^-k factor would overflow) move too.
        var values = values
        if level == .interval || level == .ratio, let largest = values.map(abs).max(), largest.isFinite, largest > 0 {
            if largest > 1e100 {
                let scale = Double(sign: .plus, exponent: -largest.exponent, significand: 1)
                values = values.map { $0 * scale }
            } else if largest < 1e-100 {
                values = values.map { $0 == 0 ? 0 : Double(sign: $0.sign, exponent: $0.exponent - largest.exponent, significand: $0.significand) }
            }
        }
        // Each unit's ratings as (value, count) runs; n_v = pairable ratings with value v.
        let runs: [[(value: Int, count: Double)]] = pairable.map { unit in
            var runs: [(value: Int, count: Double)] = []
            for value in unit.sorted() {
                if runs.last?.value == value { runs[runs.count - 1].count += 1 } else { runs.append((value, 1)) }
            }
            return runs
        }
        var nV = [Double](repeating: 0, count: v)
        for unit in runs { for run in unit { nV[run.value] += run.count } }
        let total = nV.reduce(0, +)
        // Where each value sits for the levels whose distance is a squared difference.
        var position = values
        if level == .ordinal {
            var below = 0.0
            for c in 0..<v {
                position[c] = below + nV[c] / 2
                below += nV[c]
            }
        }
        func distance(_ i: Int, _ j: Int) -> Double {
            switch level {
            case .nominal: return i == j ? 0 : 1
            case .ordinal, .interval:
                let d = position[i] - position[j]
                return d * d
            case .ratio:
                let s = values[i] + values[j]
                guard s != 0 else { return 0 }
                let d = (values[i] - values[j]) / s
                return d * d
            }
        }
        var observed = 0.0
        for (unit, ratings) in zip(runs, pairable) {
            var sum = 0.0
            for x in 0..<unit.count {
                for y in (x + 1)..<max(x + 1, unit.count) {
                    sum += 2 * unit[x].count * unit[y].count * distance(unit[x].value, unit[y].value)
                }
            }
            observed += sum / Double(ratings.count - 1)
        }
        var expected = 0.0
        switch level {
        case .nominal:
            for c in 0..<v where nV[c] > 0 { expected += nV[c] * (total - nV[c]) }
        case .ordinal, .interval:
            var first = 0.0
            for c in 0..<v where nV[c] > 0 { first += nV[c] * position[c] }
            let mean = first / total
            var centred = 0.0, second = 0.0
            for c in 0..<v where nV[c] > 0 {
                let d = position[c] - mean
                centred += nV[c] * d
                second += nV[c] * d * d
            }
            expected = 2 * (total * second - centred * centred)
        case .ratio:
            let used = (0..<v).filter { nV[$0] > 0 }
            for x in 0..<used.count {
                for y in (x + 1)..<max(x + 1, used.count) {
                    expected += 2 * nV[used[x]] * nV[used[y]] * distance(used[x], used[y])
                }
            }
        }
        expected /= total - 1
        guard expected > 0 else { return Result(alpha: nil, level: level, reason: "no expected disagreement (one value in use)") }
        let alpha = 1 - observed / expected
        guard alpha.isFinite else { return Result(alpha: nil, level: level, reason: "the disagreements are not finite numbers") }
        return Result(alpha: alpha, level: level, reason: nil)
    }
}

/// Per row of value counts (`counts[u][v]` ratings of value v), the value index of every rating.
func ratingIndices(counts: [[Int]]) -> [[Int]] {
    counts.map { row in row.enumerated().flatMap { Array(repeating: $0.offset, count: max($0.element, 0)) } }
}
