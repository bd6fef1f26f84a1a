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
        let v = values.count
        guard v > 1 else { return Result(alpha: nil, level: level, reason: "fewer than two values in the domain") }
        guard counts.contains(where: { $0.reduce(0, +) > 1 }) else {
            return Result(alpha: nil, level: level, reason: "no unit has ratings from at least two raters")
        }
        var o = [[Double]](repeating: [Double](repeating: 0, count: v), count: v)
        for unit in counts {
            let pairable = Double(max(unit.reduce(0, +), 2))
            for c in 0..<v where unit[c] > 0 {
                for k in 0..<v where unit[k] > 0 {
                    let product = Double(unit[c] * unit[k] - (c == k ? unit[c] : 0))
                    o[c][k] += product / (pairable - 1)
                }
            }
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
        var nV = [Double](repeating: 0, count: v)
        for c in 0..<v { for k in 0..<v { nV[k] += o[c][k] } }
        let total = nV.reduce(0, +)
        func distance(_ i: Int, _ j: Int) -> Double {
            switch level {
            case .nominal: return i == j ? 0 : 1
            case .ordinal:
                let (a, b) = (min(i, j), max(i, j))
                var sum = 0.0
                for g in a...b { sum += nV[g] }
                let d = sum - (nV[a] + nV[b]) / 2
                return d * d
            case .interval:
                let d = values[i] - values[j]
                return d * d
            case .ratio:
                let s = values[i] + values[j]
                guard s != 0 else { return 0 }
                let d = (values[i] - values[j]) / s
                return d * d
            }
        }
        var observed = 0.0, expected = 0.0
        for c in 0..<v {
            for k in 0..<v {
                let d = distance(c, k)
                observed += o[c][k] * d
                let e = (nV[c] * nV[k] - (c == k ? nV[c] : 0)) / (total - 1)
                expected += e * d
            }
        }
        guard expected > 0 else { return Result(alpha: nil, level: level, reason: "no expected disagreement (one value in use)") }
        let alpha = 1 - observed / expected
        guard alpha.isFinite else { return Result(alpha: nil, level: level, reason: "the disagreements are not finite numbers") }
        return Result(alpha: alpha, level: level, reason: nil)
    }
}
