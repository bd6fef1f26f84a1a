import ArgumentParser
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
                if let error = e.error { print("  error: \(error)") }
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

        struct Row: Encodable {
            var metric: String
            var a: Double?
            var b: Double?
            var delta: Double?
            var change: String
            var ratio: Double?
            var z: Double?
            var significance: String?
        }

        func run() async throws {
            let store = try storeOptions.open()
            let a = try store.run(runA), b = try store.run(runB)
            let metricsA = try store.metrics(run: a.id), metricsB = try store.metrics(run: b.id)
            var keys = metricsA.map(\.key)
            for key in metricsB.map(\.key) where !keys.contains(key) { keys.append(key) }
            let rows: [Row] = keys.map { key in
                let ma = metricsA.first { $0.key == key }, mb = metricsB.first { $0.key == key }
                let delta = ma?.value.flatMap { va in mb?.value.map { $0 - va } }
                var change = "—"
                if let delta {
                    let higher = (ma ?? mb)?.higherIsBetter ?? true
                    change = delta == 0 ? "same" : ((delta > 0) == higher ? "better" : "worse")
                } else if ma == nil { change = "only in B" } else if mb == nil { change = "only in A" }
                var row = Row(metric: key, a: ma?.value, b: mb?.value, delta: delta, change: change)
                if let va = ma?.value, let vb = mb?.value, va != 0 { row.ratio = vb / va }
                if let delta, let sa = ma?.stderr, let sb = mb?.stderr, sa.isFinite, sb.isFinite, sa + sb > 0 {
                    let z = delta / (sa * sa + sb * sb).squareRoot()
                    row.z = z
                    row.significance = abs(z) > 1.96 ? "significant (|z| > 1.96)" : "not significant"
                    if abs(z) <= 1.96 { row.change = "no significant change" }
                }
                return row
            }
            if format == .json {
                struct Comparison: Encodable { var run_a: String; var run_b: String; var metrics: [Row] }
                try JSONOutput.print(Comparison(run_a: a.id, run_b: b.id, metrics: rows))
                return
            }
            func f(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "—" }
            func signed(_ v: Double?) -> String { v.map { ($0 >= 0 ? "+" : "") + String(format: "%.4f", $0) } ?? "—" }
            print("| metric | A \(a.id) | B \(b.id) | Δ (B − A) | B / A | z | change |")
            print("|---|---:|---:|---:|---:|---:|---|")
            for row in rows {
                let ratio = row.ratio.map { String(format: "%.3f×", $0) } ?? "—", z = row.z.map { String(format: "%+.2f", $0) } ?? "—"
                print("| \(row.metric) | \(f(row.a)) | \(f(row.b)) | \(signed(row.delta)) | \(ratio) | \(z) | \(row.change) |")
            }
        }
    }
}
