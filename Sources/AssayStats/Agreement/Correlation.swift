/// Correlation coefficients as scipy 1.x computes them (`pearsonr`, `spearmanr`, `kendalltau`
/// with variant b).
public enum Correlation {
    /// Pearson's r; nil when either sample is constant or shorter than 2.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "samples must have the same length")
        guard x.count >= 2 else { return nil }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxx = 0.0, syy = 0.0
        for i in x.indices {
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        let nx = sxx.squareRoot(), ny = syy.squareRoot()
        guard nx > 0, ny > 0 else { return nil }
        var r = 0.0
        for i in x.indices { r += ((x[i] - mx) / nx) * ((y[i] - my) / ny) }
        return min(1, max(-1, r))
    }

    /// Spearman's rho: Pearson's r of average ranks.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        pearson(ranks(x), ranks(y))
    }

    /// Pair counts behind Kendall's tau: concordant, discordant, and ties.
    public struct PairCounts: Sendable, Equatable {
        /// All pairs, n(n − 1)/2.
        public var total: Int
        /// Pairs ordered the same way by both samples.
        public var concordant: Int
        /// Pairs ordered oppositely.
        public var discordant: Int
        /// Pairs tied in x (including those tied in both).
        public var xTies: Int
        /// Pairs tied in y (including those tied in both).
        public var yTies: Int
    }

    /// Concordant/discordant/tie counts in O(n log n) (Knight 1966: sort by x then y, count
    /// inversions of y by merge sort).
    public static func pairCounts(_ x: [Double], _ y: [Double]) -> PairCounts {
        precondition(x.count == y.count, "samples must have the same length")
        let n = x.count
        let order = (0..<n).sorted { (x[$0], y[$0]) < (x[$1], y[$1]) }
        func tiedPairs(_ sortedKeys: [(Double, Double)], _ same: ((Double, Double), (Double, Double)) -> Bool) -> Int {
            var ties = 0, run = 1
            for i in 1..<max(1, sortedKeys.count) {
                if same(sortedKeys[i], sortedKeys[i - 1]) { run += 1 } else { ties += run * (run - 1) / 2; run = 1 }
            }
            return ties + run * (run - 1) / 2
        }
        let byX = order.map { (x[$0], y[$0]) }
        let xTies = n > 0 ? tiedPairs(byX) { $0.0 == $1.0 } : 0
        let jointTies = n > 0 ? tiedPairs(byX) { $0 == $1 } : 0
        var ys = byX.map(\.1)
        var buffer = ys
        let discordant = inversions(&ys, &buffer, 0, n)
        let sortedY = ys.map { ($0, 0.0) }
        let yTies = n > 0 ? tiedPairs(sortedY) { $0.0 == $1.0 } : 0
        let total = n * (n - 1) / 2
        let concordant = total - discordant - xTies - yTies + jointTies
        return PairCounts(total: total, concordant: concordant, discordant: discordant, xTies: xTies, yTies: yTies)
    }

    /// Sorts `a[lo..<hi]` ascending and returns the number of pairs i < j with a[i] > a[j].
    private static func inversions(_ a: inout [Double], _ buffer: inout [Double], _ lo: Int, _ hi: Int) -> Int {
        guard hi - lo > 1 else { return 0 }
        let mid = (lo + hi) / 2
        var count = inversions(&a, &buffer, lo, mid) + inversions(&a, &buffer, mid, hi)
        var i = lo, j = mid, k = lo
        while i < mid && j < hi {
            if a[j] < a[i] { buffer[k] = a[j]; count += mid - i; j += 1 } else { buffer[k] = a[i]; i += 1 }
            k += 1
        }
        while i < mid { buffer[k] = a[i]; i += 1; k += 1 }
        while j < hi { buffer[k] = a[j]; j += 1; k += 1 }
        for t in lo..<hi { a[t] = buffer[t] }
        return count
    }

    /// Kendall's tau-b (ties in either sample adjust the denominator), as scipy's `kendalltau`;
    /// nil when a sample is constant.
    /// - Complexity: O(n log n).
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count >= 2 else { return nil }
        let c = pairCounts(x, y)
        guard c.total > c.xTies, c.total > c.yTies else { return nil }
        let tau = Double(c.concordant - c.discordant) / Double(c.total - c.xTies).squareRoot() / Double(c.total - c.yTies).squareRoot()
        return min(1, max(-1, tau))
    }

    /// Share of item pairs that humans rank differently (`x` differs) on which the metric (`y`)
    /// agrees strictly; metric ties count as disagreement. nil when humans tie on every pair.
    public static func pairwiseAccuracy(human x: [Double], metric y: [Double]) -> Double? {
        guard x.count >= 2 else { return nil }
        let c = pairCounts(x, y)
        guard c.total > c.xTies else { return nil }
        return Double(c.concordant) / Double(c.total - c.xTies)
    }

    /// Ranks 1…n, ties getting the average of their ranks (scipy's `rankdata(method="average")`).
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, values[order[j + 1]] == values[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }
}
