import ArgumentParser
import AssayReport
import AssayStore
import AssaySuite
import Foundation

/// What `assay run` and `assay merge` share: the baseline gates compare with, where reports go,
/// and what is printed.
struct RunReportOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Compare max_regression gates with this run: 'latest' (newest completed run of the suite) or a run id.", valueName: "latest|run"))
    var baseline: String?

    @Option(name: .long, help: ArgumentHelp("Reports directory.", valueName: "dir"))
    var out: String = "reports"

    @Option(name: .long, help: ArgumentHelp("Also write JUnit XML here (one test case per gate).", valueName: "file"))
    var junit: String?

    @Flag(name: .customLong("no-html"), help: "Do not write the HTML report (<run>.html beside the JSON and Markdown).")
    var noHTML = false

    @Option(name: .long, help: "What to print on stdout: md (the Markdown report), json (the JSON report) or text (the verdict line).")
    var format: OutputFormat = .md

    var writer: ReportWriter { ReportWriter(directory: URL(fileURLWithPath: out)) }
    var junitURL: URL? { junit.map { URL(fileURLWithPath: $0) } }
    var recorder: RunRecorder { RunRecorder(writer: writer, junit: junitURL, html: !noHTML, format: format) }

    /// The `--baseline` run's values from `store`; nil without `--baseline`, or (with a warning)
    /// for `latest` before the suite's first completed run.
    func baselineValues(in store: ResultsStore, suite: String) throws -> Baseline? {
        guard let baseline else { return nil }
        do {
            return try store.baseline(baseline, suite: suite)
        } catch StoreError.noBaseline(let name) where baseline == "latest" {
            Terminal.warning("no completed run of suite '\(name)' yet; max_regression gates are skipped this time")
            return nil
        }
    }
}
