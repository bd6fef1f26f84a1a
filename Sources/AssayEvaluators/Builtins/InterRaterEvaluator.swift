import AssayCore
import AssayMetrics
import AssayStats

/// Inter-rater agreement of a ratings dataset in a suite: Fleiss', Randolph's and mean pairwise
/// Cohen's kappa and Krippendorff's alpha (the same numbers as `assay agreement`).
public struct InterRaterEvaluator: Evaluator {
    public static let id = "inter-rater"
    public static let summary = "Agreement between human raters: pairwise Cohen's kappa, Fleiss, Randolph, Krippendorff's alpha"
    public static let options: [OptionSpec] = [
        OptionSpec("weights", .choice(KappaWeighting.allCases.map(\.rawValue)), default: .string("quadratic"), "kappa weights"),
        OptionSpec("level", .choice(KrippendorffAlpha.Level.allCases.map(\.rawValue)), default: .string("ordinal"), "Krippendorff level of measurement"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("mean_pairwise_kappa", higherIsBetter: true, summary: "mean Cohen's kappa over rater pairs with a defined kappa"),
        MetricSpec("min_pairwise_kappa", higherIsBetter: true, summary: "lowest pairwise Cohen's kappa"),
        MetricSpec("fleiss_kappa", higherIsBetter: true, summary: "Fleiss' kappa (unweighted) over items with the usual number of raters"),
        MetricSpec("randolph_kappa", higherIsBetter: true, summary: "Randolph's free-marginal kappa over the same items"),
        MetricSpec("krippendorff_alpha", higherIsBetter: true, summary: "Krippendorff's alpha at the chosen level"),
    ]
    public static let datasetKinds: [DatasetKind] = [.ratings]
    public static let modelRoles: ModelRoles = .none
    public static let sharding = ShardMode.atMerge

    let weighting: KappaWeighting
    let level: KrippendorffAlpha.Level

    public init(options: OptionValues) throws {
        weighting = KappaWeighting(rawValue: options.string("weights") ?? "quadratic") ?? .quadratic
        level = KrippendorffAlpha.Level(rawValue: options.string("level") ?? "ordinal") ?? .ordinal
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard let dataset = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        let ratings = try RatingSet.load(dataset, evaluator: Self.id)
        try context.checkCancellation()
        let analysis = try AgreementAnalysis(ratings, weighting: weighting, level: level)
        let kappas = analysis.pairs.compactMap(\.kappa)
        let noKappa = kappas.isEmpty ? "no rater pair has a defined kappa" : nil
        let metrics = [
            MetricValue(name: "mean_pairwise_kappa", value: kappas.isEmpty ? nil : kappas.reduce(0, +) / Double(kappas.count),
                        higherIsBetter: true, note: noKappa),
            MetricValue(name: "min_pairwise_kappa", value: kappas.min(), higherIsBetter: true, note: noKappa),
            MetricValue(name: "fleiss_kappa", value: analysis.fleiss.kappa, higherIsBetter: true,
                        note: analysis.fleiss.reason ?? "\(analysis.fleiss.items_used) items with \(analysis.fleiss.raters_per_item) raters; \(analysis.fleiss.items_left_out) left out"),
            MetricValue(name: "randolph_kappa", value: analysis.fleiss.randolph, higherIsBetter: true),
            MetricValue(name: "krippendorff_alpha", value: analysis.krippendorff.alpha, higherIsBetter: true, note: analysis.krippendorff.reason),
        ]
        func table(_ rows: [[Int]]) -> JSONValue { .array(rows.map { .array($0.map { .number(Double($0)) }) }) }
        let items = analysis.pairs.map { pair in
            var values: [String: JSONValue] = [
                "n": .number(Double(pair.n)), "kappa": pair.kappa.map(JSONValue.number) ?? .null,
                "ase": pair.ase.map(JSONValue.number) ?? .null,
            ]
            if let confusion = pair.confusion { values["confusion"] = table(confusion) }
            if let cells = pair.confusion_cells { values["confusion_cells"] = table(cells) }
            return ItemRow(id: pair.raters.joined(separator: "|"), values: values)
        }
        let signature = Signature([("scale", ratings.scale.description), ("weights", weighting.rawValue), ("level", level.rawValue),
                                   ("raters", String(analysis.raters.count)), ("items", String(analysis.items))])
        return EvaluationResult(metrics: metrics, items: items, signature: signature.description,
                                artifacts: [Artifact(name: "kappa-heatmap.svg", title: "Pairwise kappa", chart: analysis.kappaChart)])
    }
}
