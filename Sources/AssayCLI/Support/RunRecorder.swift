import AssayCore
import AssayReport
import AssayStore
import AssaySuite
import Foundation

/// How `assay run` and `assay merge` end: the reports, the store, the printed report and the
/// errors and failed gates on stderr, then the exit code by verdict.
struct RunRecorder {
    var writer: ReportWriter
    var junit: URL?
    var html: Bool
    var format: OutputFormat

    /// Writes `outcome`'s reports and records it in `store` (whose `begin` was called for it).
    ///
    /// The order survives a SIGKILL: the reports are written whole under pending names, the store
    /// commits the run naming them, then they move into place; a process killed before the commit
    /// leaves an incomplete run whose pending files the next command removes, one killed after it
    /// a finished run whose reports the next command moves into place (ResultsStore.recover).
    func record(_ outcome: RunOutcome, in store: ResultsStore) throws {
        let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        let pending = try writer.prepare(outcome, junit: junit, html: html)
        let written = pending.written
        try store.finish(outcome, reportPath: written.json.path, pending: pending.files.map { ($0.pending.path, $0.final.path) })
        // scripts/soak.sh widens the window between the commit and the renames, so that its
        // random kills land there too and the recovery is exercised (milliseconds).
        if let pause = ProcessInfo.processInfo.environment["ASSAY_SOAK_PAUSE_AFTER_COMMIT_MS"].flatMap(Double.init), pause > 0, pause < 10_000 {
            usleep(useconds_t(pause * 1000))
        }
        try store.completeReports(run: outcome.runID)
        if let summary { try ReportWriter.append(pending.markdown, to: summary) }

        switch format {
        case .md: Terminal.output(MarkdownReport.render(outcome))
        case .json:
            let document = try ReportDocument(outcome, itemsFile: written.items?.lastPathComponent).encoded()
            Terminal.standardOutput(String(data: document, encoding: .utf8).map { Data(Redaction.scrub($0).utf8) } ?? document)
        case .text: Terminal.output("\(outcome.verdict.rawValue) \(outcome.runID)")
        }
        let files = [written.markdown, written.json] + (written.html.map { [$0] } ?? [])
        Terminal.error("wrote \(files.map(\.path).joined(separator: ", ")); run \(outcome.runID) recorded in \(store.url.path)\n")
        for e in outcome.evaluations where e.status == .error {
            Terminal.error("error: evaluation '\(e.id)': \(e.error?.errorDescription ?? "failed")\n")
            if let hint = e.error?.hint { Terminal.error("hint: \(hint)\n") }
        }
        for g in outcome.gates where g.status == .fail { Terminal.error("gate failed: \(g.metric) \(g.rule): \(g.message)\n") }
    }
}
