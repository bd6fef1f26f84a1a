import AssayCore
import AssayMetrics
import AssayStats
import Foundation

/// How far an automatic metric agrees with people: joins a ratings dataset to a per-item value of
/// an earlier evaluation (`metric: bleu.sentence_bleu`) by item id, and reports weighted Cohen's
/// kappa (metric mapped onto the human categories), Kendall tau-b, Spearman, Pearson and pairwise
/// accuracy, each with a bootstrap 95 % interval over items.
///
/// - Consensus per item: `mean` (default), `median` or `majority` (most frequent category; ties go
///   to the lower category) of the raters' category values, after orienting the scale so that
///   higher is better (`human_higher_is_better: false` for error counts such as MQM).
/// - Mapping for kappa: `quantiles` (default) gives the lowest-scoring items the lowest human
///   category in the same proportions as the human consensus; `thresholds: "a,b,…"` (k − 1
///   increasing values) bins the metric directly (values equal to an edge go below it).
public struct HumanAgreementEvaluator: Evaluator {
    public static let id = "human-agreement"
    public static let summary = "Agreement between human ratings and a per-item metric of another evaluation (kappa, tau-b, Spearman, Pearson)"
    public static let options: [OptionSpec] = [
        OptionSpec("metric", .string, default: nil, "per-item value to compare: <evaluation id>.<item value>, e.g. bleu.sentence_bleu (required)"),
        OptionSpec("consensus", .choice(["mean", "median", "majority"]), default: .string("mean"), "how raters' labels combine per item"),
        OptionSpec("human_higher_is_better", .bool, default: .bool(true), "false when higher labels are worse (MQM error points)"),
        OptionSpec("mapping", .choice(["quantiles", "thresholds"]), default: .string("quantiles"), "how metric values become human categories for kappa"),
        OptionSpec("thresholds", .string, default: nil, "k − 1 increasing metric values for mapping: thresholds"),
        OptionSpec("resamples", .integer(minimum: 0, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples (0: no intervals)"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "bootstrap seed"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("kappa", higherIsBetter: true, summary: "Cohen's kappa, human consensus vs mapped metric"),
        MetricSpec("kappa_linear", higherIsBetter: true, summary: "linearly weighted kappa"),
        MetricSpec("kappa_quadratic", higherIsBetter: true, summary: "quadratically weighted kappa"),
        MetricSpec("kendall_tau_b", higherIsBetter: true, summary: "Kendall's tau-b, consensus vs metric"),
        MetricSpec("spearman", higherIsBetter: true, summary: "Spearman's rho"),
        MetricSpec("pearson", higherIsBetter: true, summary: "Pearson's r"),
        MetricSpec("pairwise_accuracy", higherIsBetter: true, summary: "share of item pairs humans rank differently that the metric orders the same way"),
        MetricSpec("items", higherIsBetter: true, summary: "items joined"),
    ]
    public static let datasetKinds: [DatasetKind] = [.ratings]
    public static let modelRoles: ModelRoles = .none
    public static let sharding = ShardMode.atMerge

    public static func dependencies(_ options: OptionValues) -> [String] {
        guard let metric = options.string("metric"), let dot = metric.firstIndex(of: ".") else { return [] }
        return [String(metric[..<dot])]
    }

    let evaluation: String
    let value: String
    let consensus: String
    let humanHigherIsBetter: Bool
    let thresholds: [Double]?
    let resamples: Int
    let seed: UInt64

    public init(options: OptionValues) throws {
        guard let metric = options.string("metric") else {
            throw EvaluatorError.invalidOption(name: "metric", message: "required: the per-item value to compare, e.g. metric: bleu.sentence_bleu")
        }
        let parts = metric.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw EvaluatorError.invalidOption(name: "metric", message: "'\(metric)' must be <evaluation id>.<item value>, e.g. bleu.sentence_bleu")
        }
        (evaluation, value) = (parts[0], parts[1])
        consensus = options.string("consensus") ?? "mean"
        humanHigherIsBetter = options.values["human_higher_is_better"].map { $0 == .bool(true) } ?? true
        if options.string("mapping") == "thresholds" {
            guard let text = options.string("thresholds") else {
                throw EvaluatorError.invalidOption(name: "thresholds", message: "mapping: thresholds needs thresholds: \"a,b,…\"")
            }
            let edges = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !edges.isEmpty, zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw EvaluatorError.invalidOption(name: "thresholds", message: "'\(text)' must be increasing numbers separated by commas")
            }
            thresholds = edges
        } else {
            thresholds = nil
        }
        resamples = options.integer("resamples") ?? 1000
        seed = UInt64(options.integer("seed") ?? 12345)
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard let dataset = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        let ratings = try RatingSet.load(dataset, evaluator: Self.id)
        let metricByItem = try context.itemValues(of: evaluation, value: value, option: "metric")
        let k = ratings.categories.count
        if let thresholds, thresholds.count != k - 1 {
            throw EvaluatorError.invalidOption(name: "thresholds", message: "need \(k - 1) thresholds for \(k) categories, got \(thresholds.count)")
        }
        // Category values oriented so that higher is better; categories reversed when needed.
        let values = ratings.categoryValues.map { humanHigherIsBetter ? $0 : -$0 }
        func oriented(_ category: Int) -> Int { humanHigherIsBetter ? category : k - 1 - category }
        var byItem: [String: [Int]] = [:]
        for r in ratings.ratings { byItem[r.item, default: []].append(r.category) }
        let joined = byItem.keys.sorted().filter { metricByItem[$0] != nil }
        guard joined.count >= 2 else {
            throw EvaluatorError.invalidOption(name: "metric", message: "only \(joined.count) item id(s) in common between the ratings and '\(evaluation)' (ratings ids look like '\(byItem.keys.sorted().first ?? "")', \(evaluation) ids like '\(context.earlierResults[evaluation]?.items.first?.id ?? "")')")
        }
        try context.checkCancellation()
        var humanValue: [Double] = [], humanCategory: [Int] = [], metric: [Double] = []
        for item in joined {
            let categories = byItem[item]!.map(oriented).sorted()
            let orientedValues = categories.map { values[humanHigherIsBetter ? $0 : k - 1 - $0] }
            let (v, c) = Self.consensus(consensus, categories: categories, values: orientedValues, categoryValues: orientedCategoryValues(values, k))
            humanValue.append(v)
            humanCategory.append(c)
            metric.append(metricByItem[item]!)
        }
        let statistics = Statistics(human: humanValue, humanCategory: humanCategory, metric: metric, categories: k, thresholds: thresholds)
        var intervals: [String: Bootstrap.Interval] = [:]
        if resamples > 0 {
            var samples: [String: [Double]] = [:]
            for draw in Bootstrap.indices(count: joined.count, resamples: resamples, seed: seed) {
                let s = Statistics(human: draw.map { humanValue[$0] }, humanCategory: draw.map { humanCategory[$0] },
                                   metric: draw.map { metric[$0] }, categories: k, thresholds: thresholds)
                for (name, v) in s.values { if let v { samples[name, default: []].append(v) } }
            }
            for (name, list) in samples where !list.isEmpty { intervals[name] = Bootstrap.interval(list) }
        }
        let metrics: [MetricValue] = Self.metrics.map { spec in
            if spec.name == "items" { return MetricValue(name: "items", value: Double(joined.count), higherIsBetter: true) }
            let v = statistics.values[spec.name] ?? nil
            return MetricValue(name: spec.name, value: v, ciLow: intervals[spec.name]?.low, ciHigh: intervals[spec.name]?.high,
                               higherIsBetter: true, note: v == nil ? "undefined for this data (constant values)" : nil)
        }
        // Each item's labels by rater, and the texts the metric's items carry, for the report's drill-down.
        var labels: [String: [String: JSONValue]] = [:]
        for r in ratings.ratings { labels[r.item, default: [:]][r.rater] = .string(ratings.categories[r.category]) }
        var texts: [String: [String: JSONValue]] = [:]
        for item in context.earlierResults[evaluation]?.items ?? [] where texts[item.id] == nil {
            texts[item.id] = item.values.filter { ItemRow.textKeys.contains($0.key) }
        }
        let items = joined.indices.map { i in
            ItemRow(id: joined[i], values: (texts[joined[i]] ?? [:]).merging([
                "human": .number(humanValue[i]), "human_category": .number(Double(humanCategory[i])),
                "metric": .number(metric[i]), "metric_category": .number(Double(statistics.metricCategory[i])),
                "ratings": .object(labels[joined[i]] ?? [:]),
            ]) { _, statistic in statistic })
        }
        let signature = Signature([
            ("metric", "\(evaluation).\(value)"), ("consensus", consensus), ("human", humanHigherIsBetter ? "higher-better" : "lower-better"),
            ("scale", ratings.scale.description), ("mapping", thresholds.map { "thresholds[\($0.map { String($0) }.joined(separator: ","))]" } ?? "quantiles"),
            ("items", String(joined.count)), ("bs", String(resamples)), ("rs", String(seed)),
        ])
        return EvaluationResult(metrics: metrics, items: items, signature: signature.description)
    }

    /// Category values in oriented order (index 0 = worst).
    func orientedCategoryValues(_ values: [Double], _ k: Int) -> [Double] {
        (0..<k).map { values[humanHigherIsBetter ? $0 : k - 1 - $0] }
    }

    /// (consensus value, consensus category) for one item's oriented categories.
    static func consensus(_ method: String, categories: [Int], values: [Double], categoryValues: [Double]) -> (Double, Int) {
        func nearest(_ v: Double) -> Int {
            var best = 0
            for c in categoryValues.indices where abs(categoryValues[c] - v) < abs(categoryValues[best] - v) { best = c }
            return best
        }
        switch method {
        case "median":
            let n = values.count
            let median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
            return (median, nearest(median))
        case "majority":
            var counts: [Int: Int] = [:]
            for c in categories { counts[c, default: 0] += 1 }
            let top = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }!.key
            return (categoryValues[top], top)
        default:
            let mean = values.reduce(0, +) / Double(values.count)
            return (mean, nearest(mean))
        }
    }

    /// Every statistic for one (re)sample.
    struct Statistics {
        var values: [String: Double?] = [:]
        var metricCategory: [Int] = []

        init(human: [Double], humanCategory: [Int], metric: [Double], categories k: Int, thresholds: [Double]?) {
            if let thresholds {
                metricCategory = metric.map { m in thresholds.filter { $0 < m }.count }
            } else {
                // Quantiles: the lowest-scoring items get the lowest categories, in the human proportions.
                var counts = [Int](repeating: 0, count: k)
                for c in humanCategory { counts[c] += 1 }
                let order = metric.indices.sorted { (metric[$0], $0) < (metric[$1], $1) }
                metricCategory = [Int](repeating: 0, count: metric.count)
                var category = 0, used = 0
                for index in order {
                    while category < k - 1 && used >= counts[category] { category += 1; used = 0 }
                    metricCategory[index] = category
                    used += 1
                }
            }
            let labels = Array(zip(humanCategory, metricCategory))
            values["kappa"] = CohenKappa(pairs: labels, categories: k, weighting: .none).kappa
            values["kappa_linear"] = CohenKappa(pairs: labels, categories: k, weighting: .linear).kappa
            values["kappa_quadratic"] = CohenKappa(pairs: labels, categories: k, weighting: .quadratic).kappa
            values["kendall_tau_b"] = Correlation.kendallTauB(human, metric)
            values["spearman"] = Correlation.spearman(human, metric)
            values["pearson"] = Correlation.pearson(human, metric)
            values["pairwise_accuracy"] = Correlation.pairwiseAccuracy(human: human, metric: metric)
        }
    }
}
