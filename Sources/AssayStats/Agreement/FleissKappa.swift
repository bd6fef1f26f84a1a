/// Fleiss' kappa and Randolph's free-marginal kappa over items rated by the same number of
/// raters, as statsmodels 0.15 `fleiss_kappa(table, method="fleiss" | "randolph")`.
public struct FleissKappa: Sendable, Equatable, Codable {
    /// Fleiss' kappa (chance from the category marginals); nil when undefined.
    public var kappa: Double?
    /// Randolph's kappa (chance = 1 / number of categories); nil when undefined.
    public var randolph: Double?
    /// Items used (those with the most common number of raters).
    public var itemsUsed: Int
    /// Items left out because they had another number of raters.
    public var itemsLeftOut: Int
    /// Raters per used item.
    public var ratersPerItem: Int
    /// Why a value is nil, if one is.
    public var reason: String?

    /// Computes both kappas.
    /// - Parameters:
    ///   - counts: per item, how many raters chose each category (all rows the same width:
    ///     the declared number of categories).
    public init(counts: [[Int]]) {
        self.init(items: ratingIndices(counts: counts), categories: counts.first?.count ?? 0)
    }

    /// Computes both kappas from each item's ratings (`items[n]` = the category index of every
    /// rating item n got, in `0..<categories`): time and memory grow with the ratings, not with
    /// items × categories.
    public init(items: [[Int]], categories: Int) {
        // Use the items with the most common rater count (ties → more raters).
        var frequency: [Int: Int] = [:]
        for item in items { frequency[item.count, default: 0] += 1 }
        let raters = frequency.filter { $0.key >= 2 }.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? 0
        let rows = items.filter { $0.count == raters }
        itemsUsed = rows.count
        itemsLeftOut = items.count - rows.count
        ratersPerItem = raters
        guard raters >= 2, rows.count >= 1, categories >= 1 else {
            reason = "no items with at least 2 raters"
            return
        }
        let nRat = Double(raters)
        let nTotal = Double(rows.count * raters)
        var pCat = [Double](repeating: 0, count: categories)
        var pMean = 0.0
        for row in rows {
            // Σ over categories of (raters who chose it)², from the sorted ratings' runs.
            var squares = 0, run = 0
            let sorted = row.sorted()
            for (n, c) in sorted.enumerated() {
                pCat[c] += 1
                run = n > 0 && sorted[n - 1] == c ? run + 1 : 1
                squares += 2 * run - 1
            }
            pMean += (Double(squares) - nRat) / (nRat * (nRat - 1))
        }
        pMean /= Double(rows.count)
        pCat = pCat.map { $0 / nTotal }
        let expected = pCat.reduce(0) { $0 + $1 * $1 }
        if expected < 1 {
            kappa = (pMean - expected) / (1 - expected)
        } else {
            reason = "only one category in use"
        }
        if categories >= 2 {
            let uniform = 1 / Double(categories)
            randolph = (pMean - uniform) / (1 - uniform)
        }
    }
}
