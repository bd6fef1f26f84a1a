import AssayStats
import Foundation

/// Inter-rater agreement of a ratings set: every rater pair (Cohen's kappa with ASE and 95 % CI,
/// optional bootstrap CI, confusion matrix), Fleiss' and Randolph's kappa over items with a
/// constant number of raters, and Krippendorff's alpha over everything.
///
/// Encodes as `assay agreement --format json` prints it.
public struct AgreementAnalysis: Sendable, Encodable {
    public var set: String
    public var scale: String
    public var categories: [String]
    public var items: Int
    public var raters: [String]
    public var weights: String
    public var pairs: [Pair]
    public var fleiss: Fleiss
    public var krippendorff: Krippendorff

    /// One rater pair.
    public struct Pair: Sendable, Encodable {
        public var raters: [String]
        public var n: Int
        public var observed: Double?
        public var expected: Double?
        public var kappa: Double?
        public var ase: Double?
        public var ci_low: Double?
        public var ci_high: Double?
        public var interpretation: String?
        public var reason: String?
        public var bootstrap_ci_low: Double?
        public var bootstrap_ci_high: Double?
        /// `confusion[i][j]`: items the first rater put in category i and the second in j; nil
        /// above ``denseConfusionLimit`` categories, where ``confusion_cells`` has the table.
        public var confusion: [[Int]]?
        /// The table's nonzero cells as `[i, j, count]`, row by row; only when ``confusion`` is nil.
        public var confusion_cells: [[Int]]?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(raters, forKey: .raters)
            try c.encode(n, forKey: .n)
            try c.encode(observed, forKey: .observed)
            try c.encode(expected, forKey: .expected)
            try c.encode(kappa, forKey: .kappa)
            try c.encode(ase, forKey: .ase)
            try c.encode(ci_low, forKey: .ci_low)
            try c.encode(ci_high, forKey: .ci_high)
            try c.encode(interpretation, forKey: .interpretation)
            try c.encodeIfPresent(reason, forKey: .reason)
            try c.encodeIfPresent(bootstrap_ci_low, forKey: .bootstrap_ci_low)
            try c.encodeIfPresent(bootstrap_ci_high, forKey: .bootstrap_ci_high)
            try c.encodeIfPresent(confusion, forKey: .confusion)
            try c.encodeIfPresent(confusion_cells, forKey: .confusion_cells)
        }

        enum CodingKeys: String, CodingKey {
            case raters, n, observed, expected, kappa, ase, ci_low, ci_high, interpretation, reason
            case bootstrap_ci_low, bootstrap_ci_high, confusion, confusion_cells
        }

        /// The confusion table of `labels` (category pairs): dense up to ``denseConfusionLimit``
        /// categories, else its nonzero cells (numeric scores make a category of every distinct
        /// value: 3,000 of them had made 9 million cells per pair, 323 MB of JSON).
        mutating func setConfusion(_ labels: [(Int, Int)], categories: Int) {
            var counts: [Int: Int] = [:]
            for (a, b) in labels { counts[a * categories + b, default: 0] += 1 }
            if categories <= AgreementAnalysis.denseConfusionLimit {
                var table = [[Int]](repeating: [Int](repeating: 0, count: categories), count: categories)
                for (cell, count) in counts { table[cell / categories][cell % categories] = count }
                confusion = table
            } else {
                confusion_cells = counts.keys.sorted().map { [$0 / categories, $0 % categories, counts[$0]!] }
            }
        }
    }

    /// Fleiss' and Randolph's kappa.
    public struct Fleiss: Sendable, Encodable {
        public var kappa: Double?
        public var randolph: Double?
        public var items_used: Int
        public var items_left_out: Int
        public var raters_per_item: Int
        public var interpretation: String?
        public var reason: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kappa, forKey: .kappa)
            try c.encode(randolph, forKey: .randolph)
            try c.encode(items_used, forKey: .items_used)
            try c.encode(items_left_out, forKey: .items_left_out)
            try c.encode(raters_per_item, forKey: .raters_per_item)
            try c.encode(interpretation, forKey: .interpretation)
            try c.encodeIfPresent(reason, forKey: .reason)
        }

        enum CodingKeys: String, CodingKey { case kappa, randolph, items_used, items_left_out, raters_per_item, interpretation, reason }
    }

    /// Krippendorff's alpha.
    public struct Krippendorff: Sendable, Encodable {
        public var alpha: Double?
        public var level: String
        public var interpretation: String?
        public var reason: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(alpha, forKey: .alpha)
            try c.encode(level, forKey: .level)
            try c.encode(interpretation, forKey: .interpretation)
            try c.encodeIfPresent(reason, forKey: .reason)
        }

        enum CodingKeys: String, CodingKey { case alpha, level, interpretation, reason }
    }

    /// Scales with more categories than this get their confusion tables as nonzero cells.
    public static let denseConfusionLimit = 32

    /// Bootstrap settings for pairwise kappa intervals.
    public struct BootstrapSettings: Sendable {
        public var resamples: Int
        public var seed: UInt64
        public init(resamples: Int, seed: UInt64) {
            self.resamples = resamples
            self.seed = seed
        }
    }

    /// Computes every statistic for `ratings`.
    /// - Throws: ``RatingsError/levelNeedsNumbers(level:labels:)`` for Krippendorff's interval or
    ///   ratio level on labels that are not numbers.
    public init(_ ratings: RatingSet, weighting: KappaWeighting, level: KrippendorffAlpha.Level, bootstrap: BootstrapSettings? = nil) throws {
        let krippendorffValues = try ratings.krippendorffValues(level: level)
        set = ratings.name
        scale = ratings.scale.description
        categories = ratings.categories
        weights = weighting.rawValue
        let k = ratings.categories.count
        // item → rater → category
        var byItem: [String: [String: Int]] = [:]
        for r in ratings.ratings { byItem[r.item, default: [:]][r.rater] = r.category }
        let itemIDs = byItem.keys.sorted()
        items = itemIDs.count
        raters = ratings.raters
        // Pairs: walk each item's raters once (cost Σ raters-per-item², not raters² × items).
        let raterIndex = Dictionary(uniqueKeysWithValues: raters.enumerated().map { ($1, $0) })
        var shared: [Int: [(Int, Int)]] = [:]
        for item in itemIDs {
            let rated = byItem[item]!.map { (raterIndex[$0.key]!, $0.value) }.sorted { $0.0 < $1.0 }
            for x in 0..<rated.count {
                for y in (x + 1)..<max(x + 1, rated.count) {
                    shared[rated[x].0 * raters.count + rated[y].0, default: []].append((rated[x].1, rated[y].1))
                }
            }
        }
        var pairs: [Pair] = []
        for key in shared.keys.sorted() {
            let labels = shared[key]!
            let (ra, rb) = (raters[key / raters.count], raters[key % raters.count])
            let kappa = CohenKappa(pairs: labels, categories: k, weighting: weighting)
            var pair = Pair(raters: [ra, rb], n: kappa.n, observed: Self.finite(kappa.observed), expected: Self.finite(kappa.expected),
                            kappa: kappa.kappa, ase: kappa.ase, ci_low: kappa.ciLow, ci_high: kappa.ciHigh,
                            interpretation: kappa.kappa.map(LandisKoch.label), reason: kappa.reason)
            pair.setConfusion(labels, categories: k)
            if let bootstrap, kappa.kappa != nil {
                let draws = Bootstrap.indices(count: labels.count, resamples: bootstrap.resamples, seed: bootstrap.seed)
                let values = draws.compactMap { idx in
                    CohenKappa(pairs: idx.map { labels[$0] }, categories: k, weighting: weighting).kappa
                }
                if !values.isEmpty {
                    let interval = Bootstrap.interval(values)
                    pair.bootstrap_ci_low = interval.low
                    pair.bootstrap_ci_high = interval.high
                }
            }
            pairs.append(pair)
        }
        self.pairs = pairs
        // Each item's ratings as category indices (not items × categories counts).
        let units = itemIDs.map { Array(byItem[$0]!.values) }
        let f = FleissKappa(items: units, categories: k)
        fleiss = Fleiss(kappa: f.kappa, randolph: f.randolph, items_used: f.itemsUsed, items_left_out: f.itemsLeftOut,
                        raters_per_item: f.ratersPerItem, interpretation: f.kappa.map(LandisKoch.label), reason: f.reason)
        let alpha = KrippendorffAlpha.alpha(units: units, values: krippendorffValues, level: level)
        krippendorff = Krippendorff(alpha: alpha.alpha, level: level.rawValue, interpretation: alpha.alpha.map(LandisKoch.label),
                                    reason: alpha.reason)
    }

    static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
}
