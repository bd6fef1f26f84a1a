import AssayEvaluators
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

/// suites/human-agreement.yaml end to end through the runner, against the values that
/// scripts/goldens/agreement_goldens.py computed independently with scikit-learn, scipy,
/// statsmodels and krippendorff on the same join.
struct HumanAgreementSuiteTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func humanVsMetricAndInterRaterEqualTheReferences() async throws {
        _ = try TestEnvironment.sharedData("wmt-mqm")
        let suite = try SuiteLoader().load(Self.root.appendingPathComponent("suites/human-agreement.yaml"))
        let outcome = await SuiteRunner().run(suite, identity: .init(runID: "test", host: "h", gitCommit: nil), models: [], baseline: nil)
        #expect(outcome.evaluations.allSatisfy { $0.status == .ok }, "\(outcome.evaluations.compactMap(\.error))")

        let golden = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("Tests/AssayStatsTests/Golden/agreement.json"))) as? [String: Any])
        let wmt = try #require(golden["wmt23"] as? [String: Any])
        let expected = try #require(wmt["evaluator"] as? [String: [String: Double]])
        for (evaluation, key) in [("humans-vs-bleu", "sentence_bleu"), ("humans-vs-chrf", "sentence_chrf")] {
            let metrics = try #require(outcome.evaluations.first { $0.id == evaluation }?.metrics)
            for (name, value) in try #require(expected[key]) {
                let got = try #require(metrics.first { $0.name == name }?.value, "\(evaluation).\(name)")
                #expect(abs(got - value) <= 1e-9, "\(evaluation).\(name): \(got) vs \(value)")
            }
            let tau = try #require(metrics.first { $0.name == "kendall_tau_b" })
            #expect(tau.ciLow! < tau.value! && tau.value! < tau.ciHigh!)
            // Each item carries its raters' labels and the metric's texts, for the report's drill-down.
            let items = try #require(outcome.evaluations.first { $0.id == evaluation }?.items)
            #expect(items.allSatisfy { item in
                guard case let .object(labels)? = item.values["ratings"], !labels.isEmpty, case .string? = item.values["hypothesis"] else { return false }
                return labels.values.allSatisfy { if case .string = $0 { true } else { false } }
            })
        }
        let raters = try #require(outcome.evaluations.first { $0.id == "raters" }?.metrics)
        let fleiss = try #require(wmt["fleiss"] as? [String: Double])
        let alpha = try #require(wmt["krippendorff"] as? [String: Double])
        #expect(abs(raters.first { $0.name == "fleiss_kappa" }!.value! - fleiss["kappa"]!) <= 1e-9)
        #expect(abs(raters.first { $0.name == "randolph_kappa" }!.value! - fleiss["randolph"]!) <= 1e-9)
        #expect(abs(raters.first { $0.name == "krippendorff_alpha" }!.value! - alpha["ordinal"]!) <= 1e-9)
    }
}
