import AssayCore
import AssayMetrics
import AssayStats
import Foundation

/// Whether a per-item metric changed between two earlier evaluations of the suite — the outputs of
/// a reference and a candidate model scored the same way (`bleu-full.sentence_bleu` against
/// `bleu-q4.sentence_bleu`, `bertscore-full.f1` against `bertscore-q4.f1`): items joined by id, the
/// mean change with a paired bootstrap 95 % interval, a paired approximate-randomization p-value
/// (seeded) and a verdict (docs/drift.md).
public struct PairedDeltaEvaluator: Evaluator {
    public static let id = "paired-delta"
    public static let summary = "Per-item metric change between two evaluations (reference vs candidate) with a paired bootstrap CI, randomization p-value and verdict"
    public static let options: [OptionSpec] = [
        OptionSpec("reference", .string, default: nil, "<evaluation id>.<item value> of the reference, e.g. bleu-full.sentence_bleu (required)"),
        OptionSpec("candidate", .string, default: nil, "<evaluation id>.<item value> of the candidate, e.g. bleu-q4.sentence_bleu (required)"),
        OptionSpec("higher_is_better", .bool, default: .bool(true), "false for metrics where lower is better"),
        OptionSpec("resamples", .integer(minimum: 1, maximum: Bootstrap.maximumResamples), default: .integer(1000), "bootstrap resamples and randomization trials"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(12345), "seed of both"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("delta", higherIsBetter: true, directionFromOptions: true, summary: "mean candidate − reference over joined items, with a paired bootstrap 95 % interval; the verdict is in the note"),
        MetricSpec("p_value", higherIsBetter: true, summary: "paired approximate-randomization p-value (two-sided)"),
        MetricSpec("reference_mean", higherIsBetter: true, directionFromOptions: true, summary: "mean of the reference's values"),
        MetricSpec("candidate_mean", higherIsBetter: true, directionFromOptions: true, summary: "mean of the candidate's values"),
        MetricSpec("items", higherIsBetter: true, summary: "items joined"),
    ]
    public static let datasetKinds: [DatasetKind] = []
    public static let modelRoles: ModelRoles = .none
    public static let sharding = ShardMode.atMerge

    static func split(_ value: String?, _ name: String) throws -> (String, String) {
        guard let value else {
            throw EvaluatorError.invalidOption(name: name, message: "required: <evaluation id>.<item value>, e.g. bleu.sentence_bleu")
        }
        let parts = value.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw EvaluatorError.invalidOption(name: name, message: "'\(value)' must be <evaluation id>.<item value>") }
        return (parts[0], parts[1])
    }

    public static func dependencies(_ options: OptionValues) -> [String] {
        ["reference", "candidate"].compactMap { options.string($0)?.split(separator: ".").first.map(String.init) }
    }

    let reference: (String, String), candidate: (String, String), higherIsBetter: Bool, resamples: Int, seed: UInt64

    public init(options: OptionValues) throws {
        reference = try Self.split(options.string("reference"), "reference")
        candidate = try Self.split(options.string("candidate"), "candidate")
        higherIsBetter = options.values["higher_is_better"].map { $0 == .bool(true) } ?? true
        resamples = options.integer("resamples") ?? 1000
        seed = UInt64(options.integer("seed") ?? 12345)
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let a = try context.itemValues(of: reference.0, value: reference.1, option: "reference")
        let b = try context.itemValues(of: candidate.0, value: candidate.1, option: "candidate")
        let joined = a.keys.filter { b[$0] != nil }.sorted()
        guard joined.count >= 2 else {
            throw EvaluatorError.invalidOption(name: "candidate", message: "only \(joined.count) item id(s) in common between '\(reference.0)' and '\(candidate.0)'")
        }
        let comparison = PairedComparison.compare(reference: joined.map { a[$0]! }, candidate: joined.map { b[$0]! },
                                                  higherIsBetter: higherIsBetter, resamples: resamples, trials: resamples, seed: seed)
        let metrics = [
            MetricValue(name: "delta", value: comparison.delta, ciLow: comparison.deltaLow, ciHigh: comparison.deltaHigh,
                        higherIsBetter: higherIsBetter, note: comparison.verdict.rawValue),
            MetricValue(name: "p_value", value: comparison.pValue, higherIsBetter: true),
            MetricValue(name: "reference_mean", value: comparison.referenceMean, higherIsBetter: higherIsBetter),
            MetricValue(name: "candidate_mean", value: comparison.candidateMean, higherIsBetter: higherIsBetter),
            MetricValue(name: "items", value: Double(joined.count), higherIsBetter: true),
        ]
        let items = joined.map { ItemRow(id: $0, values: ["reference": .number(a[$0]!), "candidate": .number(b[$0]!), "delta": .number(b[$0]! - a[$0]!)]) }
        let signature = Signature([("reference", "\(reference.0).\(reference.1)"), ("candidate", "\(candidate.0).\(candidate.1)"),
                                   ("items", String(joined.count)), ("test", "paired-bootstrap+approx-randomization"),
                                   ("bs", String(resamples)), ("rs", String(seed))]).description
        return EvaluationResult(metrics: metrics, items: items, signature: signature)
    }
}
