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

    /// Kendall's tau-b (ties in either sample adjust the denominator); nil when a sample is constant.
    /// - Complexity: O(n²).
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "samples must have the same length")
        let n = x.count
        guard n >= 2 else { return nil }
        var concordantMinusDiscordant = 0
        var xTies = 0, yTies = 0
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n {
                let dx = x[i] < x[j] ? 1 : (x[i] > x[j] ? -1 : 0)
                let dy = y[i] < y[j] ? 1 : (y[i] > y[j] ? -1 : 0)
                if dx == 0 { xTies += 1 }
                if dy == 0 { yTies += 1 }
                concordantMinusDiscordant += dx * dy
            }
        }
        let total = n * (n - 1) / 2
        guard total > xTies, total > yTies else { return nil }
        let tau = Double(concordantMinusDiscordant) / Double(total - xTies).squareRoot() / Double(total - yTies).squareRoot()
        return min(1, max(-1, tau))
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
