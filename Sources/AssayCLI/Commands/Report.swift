import AssayCore
import AssayReport
import AssayStore
import ArgumentParser
import Foundation

extension AssayCommand {
    /// `assay report`: the HTML report of a recorded run, or of two runs compared.
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the self-contained HTML report of a recorded run, or compare two runs (--vs).",
            discussion: """
                One HTML file with its style and script inline: no network, opens from file:// and \
                as a CI artifact. Tables are plain HTML (readable with script off); the script adds \
                sorting (click a header), search, a numeric filter such as `sentence_bleu < 10`, \
                keyboard navigation (/ to search, arrow keys between rows, Enter for a row's \
                details). The page also reads them from its address: report.html#q=text&f=f1<0.5&sort=f1:asc.

                The page is built from the run's JSON report (its gates and signatures) and the \
                items recorded in the store. With --vs RUN the page compares that run (A, the \
                reference) with RUN (B): every metric's change with a z test where both have a \
                standard error, and per evaluation a paired test over the items and the items that \
                moved most.

                Examples:
                  assay report 20261204T150012Z-3f9a2c --html run.html
                  assay report 20261204T1500 --vs 20261205T0900 --html compare.html   (unique prefixes)
                """)

        @Argument(help: ArgumentHelp("Run id (a unique prefix is enough); with --vs, the reference run A.", valueName: "run"))
        var run: String

        @Option(name: .long, help: ArgumentHelp("Compare with this run (B); the page shows B − A.", valueName: "run"))
        var vs: String?

        @Option(name: .long, help: ArgumentHelp("Write the HTML here.", valueName: "file"))
        var html: String

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("At most this many items per evaluation in the comparison's moved-most table.", valueName: "n"))
        var moved: Int = 50

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard moved > 0 else { throw ValidationError("--moved takes a positive count of items, got \(moved)") }
        }

        func run() async throws {
            let store = try storeOptions.open()
            let a = try Self.stored(run, store: store)
            let page: String
            if let vs {
                let b = try Self.stored(vs, store: store)
                let metricsA = try store.metrics(run: a.document.run_id), metricsB = try store.metrics(run: b.document.run_id)
                page = HTMLReport.renderComparison(a: a, b: b, comparison: Compare.comparison(a.document.run_id, metricsA, b.document.run_id, metricsB),
                                                   movedItems: moved)
            } else {
                page = HTMLReport.render(a)
            }
            let url = URL(fileURLWithPath: html)
            try AtomicFile.write(Data(page.utf8), to: url)
            Terminal.error("wrote \(url.path)\n")
        }

        /// A recorded run as the HTML report needs it: its JSON report (gates, signatures), the
        /// items from the store and the charts written beside the report.
        static func stored(_ id: String, store: ResultsStore) throws -> HTMLReport.Run {
            let summary = try store.run(id)
            guard let path = try store.reportPath(run: summary.id) else {
                throw CommandError(message: "run \(summary.id) has no report (status \(summary.status))",
                                   hint: "a run records its report when it finishes; pick a finished run from `assay history`")
            }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw CommandError(message: "the JSON report of run \(summary.id) is not readable at \(path): \(error.localizedDescription)",
                                   hint: "the page is built from it; restore the reports directory or run the suite again")
            }
            let document: ReportDocument
            do { document = try JSONDecoder().decode(ReportDocument.self, from: data) } catch {
                throw CommandError(message: "\(path) is not an Assay JSON report (\(error.localizedDescription))",
                                   hint: "restore the file `assay run` wrote, or run the suite again")
            }
            guard document.run_id == summary.id else {
                throw CommandError(message: "\(path) holds run \(document.run_id), not \(summary.id)",
                                   hint: "the reports directory was overwritten; run the suite again")
            }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            var charts: [String: [HTMLChart]] = [:]
            for evaluation in document.evaluations {
                for name in evaluation.artifacts ?? [] {
                    // A chart that is gone is left out; the page says nothing false without it.
                    guard let svg = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else { continue }
                    // The chart's own title, as the page `assay run` writes shows it; else the file's name.
                    let title = ChartRenderer.title(ofSVG: svg) ?? String(name.dropFirst(summary.id.count + evaluation.id.count + 2))
                    charts[evaluation.id, default: []].append(HTMLChart(title: title, svg: svg))
                }
            }
            return HTMLReport.Run(document: document, items: try store.items(run: summary.id), charts: charts)
        }
    }
}
