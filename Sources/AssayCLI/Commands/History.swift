import ArgumentParser
import AssayReport
import AssayStore
import Foundation

extension AssayCommand {
    /// `assay history`: runs in the store, newest first.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recorded runs, newest first.")

        @Option(name: .long, help: "Only runs of this suite.")
        var suite: String?

        @Option(name: .long, help: "At most this many runs.")
        var limit: Int = 20

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let runs = try storeOptions.open().history(suite: suite, limit: limit)
            if format == .json { try JSONOutput.print(runs); return }
            if runs.isEmpty { print("no runs recorded in \(storeOptions.url.path)"); return }
            print("run id                   suite                 status       started")
            for run in runs {
                print("\(run.id.padding(toLength: 24, withPad: " ", startingAt: 0)) \(run.suite.padding(toLength: 21, withPad: " ", startingAt: 0)) \(run.status.padding(toLength: 12, withPad: " ", startingAt: 0)) \(run.started)")
            }
        }
    }

    /// `assay show`: one run's evaluations and metrics.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one recorded run: evaluations, signatures and metrics.")

        @Argument(help: ArgumentHelp("Run id (a unique prefix is enough).", valueName: "run"))
        var run: String

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let store = try storeOptions.open()
            let summary = try store.run(run)
            let evaluations = try store.evaluations(run: summary.id)
            let metrics = try store.metrics(run: summary.id)
            if format == .json {
                struct Shown: Encodable { var run: RunSummary; var evaluations: [StoredEvaluation]; var metrics: [StoredMetric]; var items: Int }
                try JSONOutput.print(Shown(run: summary, evaluations: evaluations, metrics: metrics, items: try store.itemCount(run: summary.id)))
                return
            }
            print("run \(summary.id) · suite \(summary.suite) · \(summary.status) · started \(summary.started)\(summary.finished.map { " · finished \($0)" } ?? "")")
            for e in evaluations {
                print("\n\(e.id) (\(e.evaluator)) — \(e.status)")
                if !e.signature.isEmpty { print("  signature: \(e.signature)") }
                if let error = e.error {
                    print("  error: \(e.errorLocation.map { "\($0): " } ?? "")\(error)")
                    if let hint = e.errorHint { print("  hint: \(hint)") }
                }
                for m in metrics where m.evaluation == e.id {
                    print("  \(m.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(m.value.map { String(format: "%.4f", $0) } ?? "—")")
                }
            }
        }
    }

    /// `assay compare`: metric deltas between two runs.
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two recorded runs metric by metric (B − A).",
            discussion: """
                For metrics both runs recorded with a standard error (tokens/s of a throughput \
                evaluation, perplexity, …) the comparison adds the ratio B/A (the speed-up for \
                tokens/s) and a significance statement from a two-sided z-test on the two standard \
                errors taken as independent: z = (B − A) / sqrt(seA² + seB²), significant at 5 % when \
                |z| > 1.96. A difference that is not significant is no evidence of a change.
                """)

        @Argument(help: ArgumentHelp("First run (the reference).", valueName: "run-a"))
        var runA: String

        @Argument(help: ArgumentHelp("Second run.", valueName: "run-b"))
        var runB: String

        @Option(name: .long, help: "text, md or json.")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let store = try storeOptions.open()
            let a = try store.run(runA), b = try store.run(runB)
            let metricsA = try store.metrics(run: a.id), metricsB = try store.metrics(run: b.id)
            var keys = metricsA.map(\.key)
            for key in metricsB.map(\.key) where !keys.contains(key) { keys.append(key) }
            func side(_ metric: StoredMetric?) -> RunComparison.Side? {
                metric.map { RunComparison.Side(value: $0.value, stderr: $0.stderr, higherIsBetter: $0.higherIsBetter) }
            }
            let comparison = RunComparison(runA: a.id, runB: b.id, metrics: keys.map { key in
                (key, side(metricsA.first { $0.key == key }), side(metricsB.first { $0.key == key }))
            })
            if format == .json { try JSONOutput.print(comparison) } else { print(comparison.markdown) }
        }
    }
}
