import AssayCore
import AssayMetrics
import AssayStats
import AssayTestSupport
import Foundation
import Testing

/// Agreement statistics against scikit-learn, statsmodels, krippendorff and scipy on real ratings
/// (goldens from scripts/goldens/agreement_goldens.py; the ratings come from $ASSAY_DATA).
struct AgreementGoldenTests {
    struct KappaGolden: Decodable { var sklearn: Double; var kappa: Double; var ase: Double; var ci_low: Double; var ci_high: Double }
    struct Pair: Decodable { var raters: [String]; var n: Int; var none: KappaGolden; var linear: KappaGolden; var quadratic: KappaGolden }
    struct Fleiss: Decodable { var kappa: Double; var randolph: Double; var items_used: Int }
    struct Correlations: Decodable { var items: Int; var pearson: Double; var spearman: Double; var kendall_tau_b: Double }
    struct DataSet: Decodable {
        var items: Int
        var raters: [String]
        var categories: Int
        var pairs: [Pair]
        var fleiss: Fleiss
        var krippendorff: [String: Double]
        var krippendorff_raw_interval: Double?
        var human_vs_bleu: Correlations?
    }
    struct File: Decodable { var wmt23: DataSet; var squality_rank: DataSet; var squality_rating: DataSet }

    /// The golden values; a missing or malformed file fails the test that asks (never a silent pass).
    static func golden() throws -> File {
        let url = try #require(Bundle.module.url(forResource: "Golden/agreement", withExtension: "json"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    @Test func goldenFileLoads() throws {
        let golden = try Self.golden()
        #expect(golden.wmt23.items > 0 && golden.squality_rank.items > 0 && golden.squality_rating.items > 0)
    }

    /// (item, rater) → category, as the golden script builds them.
    typealias Ratings = [String: [String: Int]]

    static func dataRoot() throws -> URL { try TestEnvironment.sharedData("wmt-mqm").deletingLastPathComponent() }

    static func binned(_ value: Double, _ edges: [Double]) -> Int { edges.filter { $0 < value }.count }

    /// Ratings, raw scores by rater, raw scores in file order (for means summed as numpy does), texts.
    static func wmt23(_ root: URL) throws -> (Ratings, [String: [String: Double]], [String: [Double]], [String: (String, String)]) {
        var ratings: Ratings = [:], raw: [String: [String: Double]] = [:], texts: [String: (String, String)] = [:]
        var inOrder: [String: [Double]] = [:]
        let lines = try String(contentsOf: root.appendingPathComponent("wmt-mqm/generalmt2023-zhen-sxs/segments.jsonl"), encoding: .utf8)
        for line in lines.split(separator: "\n") {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let item = "\(row["system"] as! String)#\(row["seg_id"] as! Int)"
            let rater = row["rater"] as! String
            let score = (row["mqm_score"] as! NSNumber).doubleValue
            ratings[item, default: [:]][rater] = binned(score, [0, 5, 10])
            raw[item, default: [:]][rater] = score
            inOrder[item, default: []].append(score)
            texts[item] = (row["hypothesis"] as! String, row["reference"] as! String)
        }
        return (ratings, raw, inOrder, texts)
    }

    static func squality(_ root: URL, field: String, edges: [Double]?) throws -> Ratings {
        var ratings: Ratings = [:]
        let lines = try String(contentsOf: root.appendingPathComponent("squality-human-eval/all-responses.jsonl"), encoding: .utf8)
        for line in lines.split(separator: "\n") {
            let passage = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = passage["passage-id"] as! String
            for (q, systems) in passage["questions"] as! [String: [String: Any]] {
                for (system, entry) in systems {
                    for review in (entry as! [String: Any])["reviews"] as! [[String: Any]] {
                        let value = (review[field] as! NSNumber).doubleValue
                        ratings["\(id)/\(q)/\(system)", default: [:]][review["worker_id"] as! String] =
                            edges.map { binned(value, $0) } ?? Int(value) - 1
                    }
                }
            }
        }
        return ratings
    }

    func check(_ ratings: Ratings, _ golden: DataSet, _ name: String) {
        let k = golden.categories
        let raters = Set(ratings.values.flatMap(\.keys)).sorted()
        #expect(raters == golden.raters)
        #expect(ratings.count == golden.items)
        for pair in golden.pairs {
            let (a, b) = (pair.raters[0], pair.raters[1])
            let shared = ratings.values.compactMap { r in r[a].flatMap { x in r[b].map { (x, $0) } } }
            #expect(shared.count == pair.n)
            for (weighting, expected) in [(KappaWeighting.none, pair.none), (.linear, pair.linear), (.quadratic, pair.quadratic)] {
                let result = CohenKappa(pairs: shared, categories: k, weighting: weighting)
                let context = "\(name) \(a)-\(b) \(weighting)"
                #expect(abs((result.kappa ?? .nan) - expected.kappa) <= 1e-9, "\(context) kappa")
                #expect(abs((result.kappa ?? .nan) - expected.sklearn) <= 1e-9, "\(context) sklearn")
                #expect(abs((result.ase ?? .nan) - expected.ase) <= 1e-9, "\(context) ase")
                #expect(abs((result.ciLow ?? .nan) - expected.ci_low) <= 1e-9, "\(context) ci_low")
                #expect(abs((result.ciHigh ?? .nan) - expected.ci_high) <= 1e-9, "\(context) ci_high")
            }
        }
        let counts: [[Int]] = ratings.keys.sorted().map { item in
            var row = [Int](repeating: 0, count: k)
            for label in ratings[item]!.values { row[label] += 1 }
            return row
        }
        let fleiss = FleissKappa(counts: counts.filter { $0.reduce(0, +) == 3 })
        #expect(fleiss.itemsUsed == golden.fleiss.items_used)
        #expect(abs((fleiss.kappa ?? .nan) - golden.fleiss.kappa) <= 1e-9, "\(name) fleiss")
        #expect(abs((fleiss.randolph ?? .nan) - golden.fleiss.randolph) <= 1e-9, "\(name) randolph")
        for level in KrippendorffAlpha.Level.allCases {
            let alpha = KrippendorffAlpha.alpha(counts: counts, values: (0..<k).map(Double.init), level: level).alpha
            #expect(abs((alpha ?? .nan) - (golden.krippendorff[level.rawValue] ?? 0)) <= 1e-9, "\(name) alpha \(level)")
        }
    }

    @Test func wmt23BinnedMQM() throws {
        let golden = try Self.golden(), root = try Self.dataRoot()
        let (ratings, raw, inOrder, texts) = try Self.wmt23(root)
        check(ratings, golden.wmt23, "wmt23")

        // Interval alpha on the raw points: the value domain is every distinct score.
        let values = Set(raw.values.flatMap(\.values)).sorted()
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        let counts = raw.keys.sorted().map { item in
            var row = [Int](repeating: 0, count: values.count)
            for score in raw[item]!.values { row[index[score]!] += 1 }
            return row
        }
        let alpha = KrippendorffAlpha.alpha(counts: counts, values: values, level: .interval).alpha
        #expect(abs((alpha ?? .nan) - (golden.wmt23.krippendorff_raw_interval ?? 0)) <= 1e-9)

        // Human (negated mean MQM) against sentence BLEU.
        let expected = try #require(golden.wmt23.human_vs_bleu)
        let bleu = try BLEU(.init(effectiveOrder: true))
        let keys = raw.keys.sorted()
        // Summed in file order as numpy does: near-ties of the mean depend on the order, and
        // Spearman/Kendall see ties exactly.
        let human = keys.map { key in -inOrder[key]!.reduce(0, +) / Double(inOrder[key]!.count) }
        let metric = keys.map { key in bleu.score(bleu.statistics(hypothesis: texts[key]!.0, references: [texts[key]!.1])).score }
        #expect(keys.count == expected.items)
        #expect(abs((Correlation.pearson(human, metric) ?? .nan) - expected.pearson) <= 1e-9)
        #expect(abs((Correlation.spearman(human, metric) ?? .nan) - expected.spearman) <= 1e-9)
        #expect(abs((Correlation.kendallTauB(human, metric) ?? .nan) - expected.kendall_tau_b) <= 1e-9)
    }

    @Test func squalityRanksAndBinnedRatings() throws {
        let golden = try Self.golden(), root = try Self.dataRoot()
        check(try Self.squality(root, field: "overall-rank", edges: nil), golden.squality_rank, "squality rank")
        check(try Self.squality(root, field: "overall-rating", edges: [20, 40, 60, 80]), golden.squality_rating, "squality rating")
    }
}

/// Degenerate inputs give nil with a reason, never NaN or a crash.
struct AgreementDegenerateTests {
    @Test func oneCategoryOnly() {
        let result = CohenKappa(table: [[5, 0], [0, 0]], weighting: .none)
        #expect(result.kappa == nil && result.reason?.contains("one category") == true)
        #expect(CohenKappa(table: [[5, 0], [0, 0]], weighting: .quadratic).kappa == nil)
    }

    @Test func fewerThanTwoItems() {
        #expect(CohenKappa(table: [[1, 0], [0, 0]], weighting: .linear).reason == "fewer than 2 shared items")
    }

    /// Perfect agreement: kappa 1 with variance 0, so ASE 0 and the interval [1, 1] at every weighting.
    @Test func perfectAgreementIsOne() {
        for weighting in KappaWeighting.allCases {
            let result = CohenKappa(table: [[3, 0, 0], [0, 2, 0], [0, 0, 4]], weighting: weighting)
            #expect(result.kappa == 1 && result.ase == 0 && result.ciLow == 1 && result.ciHigh == 1, "\(weighting): \(result)")
        }
    }

    /// Independent raters: statsmodels' exact 0, where 1 − disagreement/chance had given −2.2e-16
    /// ("poor"; found in review, 2026-12-07).
    @Test func independentRatersGiveExactlyZero() {
        let result = CohenKappa(table: [[6, 3], [8, 4]], weighting: .none)
        #expect(result.kappa == 0 && result.observed == 10.0 / 21 && result.expected == 10.0 / 21, "\(result)")
        #expect(result.kappa.map(LandisKoch.label) == "slight")
    }

    /// Interval and ratio alpha on values near the largest doubles (±1e200, ±1e308): their squared
    /// differences had overflowed to inf/inf = NaN; scaled by a power of two they give the alpha
    /// of the same values at a sane scale.
    @Test func krippendorffSurvivesHugeValues() throws {
        let counts = [[1, 1, 0, 0], [0, 0, 2, 0], [0, 0, 1, 1]]
        for level in [KrippendorffAlpha.Level.interval, .ratio] {
            for huge in [1e200, 1e308] {
                let values = [-huge, 1, 3, huge]
                let scaled = values.map { $0 / Double(sign: .plus, exponent: huge.exponent, significand: 1) }
                let alpha = try #require(KrippendorffAlpha.alpha(counts: counts, values: values, level: level).alpha, "\(level) \(huge)")
                #expect(alpha.isFinite && alpha == KrippendorffAlpha.alpha(counts: counts, values: scaled, level: level).alpha, "\(level) \(huge)")
            }
        }
    }

    /// Values near the smallest doubles (1e-200, and subnormals): their squares had underflowed to
    /// 0, and alpha had been "no expected disagreement (one value in use)" with five values in use
    /// (found by probing, 2026-12-07). Moved up by a power of two, they give the alpha of 1, 3, 4, 7.
    @Test func krippendorffSurvivesTinyValues() throws {
        let counts = [[1, 1, 0, 0], [0, 0, 2, 0], [0, 0, 1, 1], [2, 0, 0, 0]]
        for level in [KrippendorffAlpha.Level.interval, .ratio] {
            let plain = try #require(KrippendorffAlpha.alpha(counts: counts, values: [1, 3, 4, 7], level: level).alpha)
            for tiny in [1e-162, 1e-200, 1e-320] {
                let alpha = try #require(KrippendorffAlpha.alpha(counts: counts, values: [1, 3, 4, 7].map { $0 * tiny }, level: level).alpha, "\(level) \(tiny)")
                #expect(abs(alpha - plain) < (tiny < 1e-300 ? 1e-2 : 1e-12), "\(level) \(tiny): \(alpha) against \(plain)")
            }
            #expect(KrippendorffAlpha.alpha(counts: counts, values: [0, 5e-324, 1e-320, 1e-310], level: level).alpha != nil, "\(level)")
        }
    }

    @Test func krippendorffNeedsPairs() {
        #expect(KrippendorffAlpha.alpha(counts: [[1, 0], [0, 1]], values: [0, 1], level: .nominal).alpha == nil)
        #expect(KrippendorffAlpha.alpha(counts: [[2, 0], [3, 0]], values: [0, 1], level: .nominal).alpha == nil)
    }

    @Test func correlationsOfConstantsAreNil() {
        #expect(Correlation.pearson([1, 1, 1], [1, 2, 3]) == nil)
        #expect(Correlation.kendallTauB([1, 1, 1], [1, 2, 3]) == nil)
        #expect(Correlation.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4])
    }

    @Test(arguments: [(-0.1, "poor"), (0.2, "slight"), (0.35, "fair"), (0.6, "moderate"), (0.7, "substantial"), (0.95, "almost perfect")])
    func landisKoch(_ value: Double, _ label: String) {
        #expect(LandisKoch.label(value) == label)
    }
}

/// Kappa and alpha in O(cells + categories) equal the textbook double sums over every pair of
/// categories (statsmodels' and krippendorff's formulas, written out below) on thousands of
/// categories and on mass bunched at the top of a long scale, where closed forms can lose digits
/// to cancellation. statsmodels' variance form itself loses digits when kappa is near 1, so the
/// reference is computed with 64-bit significands (Float80) where the CPU has them.
struct AgreementClosedFormTests {
    #if arch(x86_64)
    typealias Wide = Float80
    static let aseTolerance = 1e-8
    #else
    typealias Wide = Double
    static let aseTolerance = 1e-4
    #endif

    /// statsmodels' `cohens_kappa` over the full table.
    static func denseKappa(_ table: [[Double]], weighting: KappaWeighting) -> (kappa: Double, ase: Double) {
        let k = table.count, n = Wide(table.joined().reduce(0, +))
        let row = table.map { Wide($0.reduce(0, +)) / n }, col = (0..<k).map { j in Wide(table.reduce(0) { $0 + $1[j] }) / n }
        let span = Wide(k - 1)
        func w(_ i: Int, _ j: Int) -> Wide {
            switch weighting {
            case .none: return i == j ? 0 : 1
            case .linear: return Wide(abs(i - j)) / span
            case .quadratic: return Wide((i - j) * (i - j)) / (span * span)
            }
        }
        var wt: Wide = 0, we: Wide = 0, agreeWExp: Wide = 0
        var wRow = [Wide](repeating: 0, count: k), wCol = [Wide](repeating: 0, count: k)
        for i in 0..<k {
            for j in 0..<k {
                wt += w(i, j) * Wide(table[i][j])
                we += w(i, j) * row[i] * col[j]
                wRow[i] += col[j] * (1 - w(i, j))
                wCol[j] += row[i] * (1 - w(i, j))
                agreeWExp += (1 - w(i, j)) * col[j] * row[i]
            }
        }
        let kappa = 1 - wt / n / we
        var termA: Wide = 0
        for i in 0..<k {
            for j in 0..<k where table[i][j] != 0 {
                let t = (1 - w(i, j)) - (wCol[j] + wRow[i]) * (1 - kappa)
                termA += Wide(table[i][j]) / n * t * t
            }
        }
        let c = kappa - agreeWExp * (1 - kappa)
        return (Double(kappa), Double(((termA - c * c) / ((1 - agreeWExp) * (1 - agreeWExp) * n)).squareRoot()))
    }

    /// krippendorff's coincidence-matrix form.
    static func denseAlpha(_ counts: [[Int]], values: [Double], level: KrippendorffAlpha.Level) -> Double {
        let v = values.count
        var o = [[Double]](repeating: [Double](repeating: 0, count: v), count: v)
        for unit in counts where unit.reduce(0, +) > 1 {
            let m = Double(unit.reduce(0, +))
            for c in 0..<v where unit[c] > 0 {
                for k in 0..<v where unit[k] > 0 { o[c][k] += Double(unit[c] * unit[k] - (c == k ? unit[c] : 0)) / (m - 1) }
            }
        }
        let nV = (0..<v).map { k in o.reduce(0) { $0 + $1[k] } }, total = nV.reduce(0, +)
        func d(_ i: Int, _ j: Int) -> Double {
            switch level {
            case .nominal: return i == j ? 0 : 1
            case .ordinal:
                let s = nV[min(i, j)...max(i, j)].reduce(0, +) - (nV[i] + nV[j]) / 2
                return s * s
            case .interval: return (values[i] - values[j]) * (values[i] - values[j])
            case .ratio: return values[i] + values[j] == 0 ? 0 : pow((values[i] - values[j]) / (values[i] + values[j]), 2)
            }
        }
        var observed = 0.0, expected = 0.0
        for c in 0..<v {
            for k in 0..<v {
                observed += o[c][k] * d(c, k)
                expected += (nV[c] * nV[k] - (c == k ? nV[c] : 0)) / (total - 1) * d(c, k)
            }
        }
        return 1 - observed / expected
    }

    @Test(arguments: [(categories: 7, items: 60, low: 0), (categories: 900, items: 400, low: 0), (categories: 900, items: 400, low: 880)])
    func kappaEqualsTheFullDoubleSum(_ shape: (categories: Int, items: Int, low: Int)) throws {
        var generator = SeededGenerator(seed: 42)
        let pairs = (0..<shape.items).map { _ in
            let a = Int.random(in: shape.low..<shape.categories, using: &generator)
            return (a, min(shape.categories - 1, max(shape.low, a + Int.random(in: -3...3, using: &generator))))
        }
        var table = [[Double]](repeating: [Double](repeating: 0, count: shape.categories), count: shape.categories)
        for (a, b) in pairs { table[a][b] += 1 }
        for weighting in KappaWeighting.allCases {
            let sparse = CohenKappa(pairs: pairs, categories: shape.categories, weighting: weighting)
            let dense = Self.denseKappa(table, weighting: weighting)
            let kappa = try #require(sparse.kappa), ase = try #require(sparse.ase)
            let context = "\(shape) \(weighting)"
            #expect(abs(kappa - dense.kappa) <= 1e-12, "\(context): \(kappa) vs \(dense.kappa)")
            #expect(abs(ase - dense.ase) <= Self.aseTolerance * dense.ase, "\(context): \(ase) vs \(dense.ase)")
            let fromTable = CohenKappa(table: table, weighting: weighting)
            let tableKappa = try #require(fromTable.kappa), tableASE = try #require(fromTable.ase)
            #expect(abs(tableKappa - kappa) <= 1e-14 && abs(tableASE - ase) <= 1e-12 * ase, "\(context)")
        }
    }

    @Test(arguments: KrippendorffAlpha.Level.allCases)
    func alphaEqualsTheCoincidenceMatrix(_ level: KrippendorffAlpha.Level) throws {
        var generator = SeededGenerator(seed: 7)
        let values = (0..<600).map { 1000 + Double($0) * 0.37 }
        let counts = (0..<300).map { _ in
            var row = [Int](repeating: 0, count: values.count)
            let base = Int.random(in: 0..<values.count, using: &generator)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                row[min(values.count - 1, max(0, base + Int.random(in: -5...5, using: &generator)))] += 1
            }
            return row
        }
        let alpha = try #require(KrippendorffAlpha.alpha(counts: counts, values: values, level: level).alpha)
        let dense = Self.denseAlpha(counts, values: values, level: level)
        #expect(abs(alpha - dense) <= 1e-11, "\(level): \(alpha) vs \(dense)")
    }
}
