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

        @Option(name: .long, parsing: .unconditional, help: "At most this many runs.")
        var limit: Int = 20

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        @Option(name: .long, help: ArgumentHelp("Write an HTML page of the suite's trends here: a sparkline per gated metric across the runs (needs --suite).", valueName: "file"))
        var html: String?

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
            if html != nil, suite == nil { throw ValidationError("--html draws one suite's trends: add --suite NAME") }
        }

        func run() async throws {
            let store = try storeOptions.open()
            let runs = try store.history(suite: suite, limit: limit)
            if let html, let suite {
                try Self.writeTrends(suite: suite, runs: runs, store: store, to: URL(fileURLWithPath: html))
                return
            }
            if format == .json { try JSONOutput.print(runs); return }
            if runs.isEmpty { Terminal.output("no runs recorded in \(storeOptions.url.path)"); return }
            Terminal.output("run id                   suite                 status       started")
            for run in runs {
                Terminal.output("\(run.id.padding(toLength: 24, withPad: " ", startingAt: 0)) \(run.suite.padding(toLength: 21, withPad: " ", startingAt: 0)) \(run.status.padding(toLength: 12, withPad: " ", startingAt: 0)) \(run.started)")
            }
        }

        /// The trends page: the gated metrics of the suite's newest run with a readable JSON report
        /// (every metric when none has one), across `runs`, oldest first.
        static func writeTrends(suite: String, runs: [RunSummary], store: ResultsStore, to url: URL) throws {
            guard !runs.isEmpty else {
                throw CommandError(message: "no runs of suite '\(suite)' in \(store.url.path)", hint: "check the name with `assay history`")
            }
            let oldestFirst = Array(runs.reversed())
            let metrics = try oldestFirst.map { try store.metrics(run: $0.id) }
            var gated: [String] = []
            for run in runs {
                guard let path = try store.reportPath(run: run.id), let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
                      let document = try? JSONDecoder().decode(ReportDocument.self, from: data) else { continue }
                for gate in document.gates where !gated.contains(gate.metric) { gated.append(gate.metric) }
                break
            }
            if gated.isEmpty {
                for metric in metrics.flatMap({ $0 }) where !gated.contains(metric.key) { gated.append(metric.key) }
            }
            let series = gated.map { key in
                HTMLReport.HistorySeries(metric: key, values: metrics.map { run in run.first { $0.key == key }?.value })
            }
            let page = HTMLReport.renderHistory(suite: suite, runs: oldestFirst.map { HTMLReport.HistoryRun(id: $0.id, started: $0.started, status: $0.status) },
                                                series: series)
            try AtomicFile.write(Data(page.utf8), to: url)
            Terminal.error("wrote \(url.path)\n")
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
            Terminal.output("run \(summary.id) · suite \(summary.suite) · \(summary.status) · started \(summary.started)\(summary.finished.map { " · finished \($0)" } ?? "")")
            for e in evaluations {
                Terminal.output("\n\(e.id) (\(e.evaluator)) — \(e.status)")
                if !e.signature.isEmpty { Terminal.output("  signature: \(e.signature)") }
                if let error = e.error {
                    Terminal.output("  error: \(e.errorLocation.map { "\($0): " } ?? "")\(error)")
                    if let hint = e.errorHint { Terminal.output("  hint: \(hint)") }
                }
                for m in metrics where m.evaluation == e.id {
                    Terminal.output("  \(m.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(m.value.map { String(format: "%.4f", $0) } ?? "—")")
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
            let comparison = Self.comparison(a.id, try store.metrics(run: a.id), b.id, try store.metrics(run: b.id))
            if format == .json { try JSONOutput.print(comparison) } else { Terminal.output(comparison.markdown) }
        }

        /// Every metric of A (in its order), then those only B has.
        static func comparison(_ idA: String, _ metricsA: [StoredMetric], _ idB: String, _ metricsB: [StoredMetric]) -> RunComparison {
            var keys = metricsA.map(\.key)
            for key in metricsB.map(\.key) where !keys.contains(key) { keys.append(key) }
            func side(_ metric: StoredMetric?) -> RunComparison.Side? {
                metric.map { RunComparison.Side(value: $0.value, stderr: $0.stderr, higherIsBetter: $0.higherIsBetter) }
            }
            return RunComparison(runA: idA, runB: idB, metrics: keys.map { key in
                (key, side(metricsA.first { $0.key == key }), side(metricsB.first { $0.key == key }))
            })
        }
    }
}
