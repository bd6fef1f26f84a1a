import AssayTestSupport
import Foundation
import Testing

/// `assay run` writes `<run>.html` (unless `--no-html`); `assay report` draws a recorded run or a
/// comparison of two, `assay history --html` a suite's trends — each checked in chromium.
struct HTMLReportCommandTests {
    /// A BLEU + chrF suite over our own sentences, hypotheses chosen by `system`.
    static func suite(in directory: URL, system: String) throws {
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        try """
            version: 1
            name: html
            datasets:
              mt: { kind: parallel, hypotheses: \(mt.appendingPathComponent("\(system).txt").path), references: [\(mt.appendingPathComponent("reference.txt").path)] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: mt, options: { confidence: true } }
              - { id: chrf, evaluator: chrf, dataset: mt }
            gates:
              - { metric: bleu.score, min: 1 }
            """.write(to: directory.appendingPathComponent("\(system).yaml"), atomically: true, encoding: .utf8)
    }

    static func runID(_ result: AssayProcess) -> String { result.stdout.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? "" }

    @Test func runReportCompareAndHistoryPagesOpenInChromium() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-html")
        try Self.suite(in: directory, system: "system-a")
        try Self.suite(in: directory, system: "system-b")
        let a = try AssayProcess.run(["run", "system-a.yaml", "--store", "s.sqlite", "--out", "out", "--format", "text"], in: directory)
        let b = try AssayProcess.run(["run", "system-b.yaml", "--store", "s.sqlite", "--out", "out", "--format", "text"], in: directory)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)\(b.stderr)")
        let idA = Self.runID(a), idB = Self.runID(b)
        let runPage = directory.appendingPathComponent("out/html/\(idA).html")
        #expect(FileManager.default.fileExists(atPath: runPage.path) && a.stderr.contains("\(idA).html"))

        // The page assay run wrote and the one assay report draws from the store show the same tables.
        let report = try AssayProcess.run(["report", idA, "--html", "page.html", "--store", "s.sqlite"], in: directory)
        #expect(report.status == 0, "\(report.stderr)")
        let compare = try AssayProcess.run(["report", idA, "--vs", idB, "--html", "compare.html", "--store", "s.sqlite"], in: directory)
        #expect(compare.status == 0, "\(compare.stderr)")
        let history = try AssayProcess.run(["history", "--suite", "html", "--html", "history.html", "--store", "s.sqlite"], in: directory)
        #expect(history.status == 0, "\(history.stderr)")

        let written = try Chromium.dumpDOM(runPage), drawn = try Chromium.dumpDOM(directory.appendingPathComponent("page.html"))
        for page in [written, drawn] {
            #expect(page.errors.isEmpty && page.dom.contains("data-errors=\"0\""))
            #expect(page.dom.contains("id=\"gates\"") && page.dom.contains("bleu.score") && page.dom.contains("data-visible-rows=\"20\""))
        }
        // The bootstrap chart: titled by the evaluator on the run's page, by the chart's own title
        // (not its file name) on the page drawn from the store.
        #expect(written.dom.contains("BLEU: bootstrap distribution"))
        #expect(drawn.dom.contains("BLEU over 1000 bootstrap resamples (estimate and 95 % interval)") && !drawn.dom.contains(">bootstrap.svg<"))
        let comparison = try Chromium.dumpDOM(directory.appendingPathComponent("compare.html"))
        #expect(comparison.errors.isEmpty && comparison.dom.contains("data-errors=\"0\""))
        #expect(comparison.dom.contains("20 paired items on sentence_bleu") && comparison.dom.contains("significantly worse"))
        let trends = try Chromium.dumpDOM(directory.appendingPathComponent("history.html"))
        #expect(trends.errors.isEmpty && trends.dom.contains("bleu.score") && trends.dom.contains("2 run(s)"))
    }

    @Test func noHTMLAndClearErrors() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-html")
        try Self.suite(in: directory, system: "system-a")
        let run = try AssayProcess.run(["run", "system-a.yaml", "--store", "s.sqlite", "--out", "out", "--format", "text", "--no-html"], in: directory)
        #expect(run.status == 0)
        let id = Self.runID(run)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out/html/\(id).html").path))

        let unknown = try AssayProcess.run(["report", "nosuchrun", "--html", "x.html", "--store", "s.sqlite"], in: directory)
        #expect(unknown.status == 2 && unknown.stderr.contains("no run 'nosuchrun'"))
        let noSuite = try AssayProcess.run(["history", "--html", "x.html", "--store", "s.sqlite"], in: directory)
        #expect(noSuite.status == 64 && noSuite.stderr.contains("--suite"))
        // The page is built from the JSON report: gone, the command says so and how to fix it.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("out/html/\(id).json"))
        let gone = try AssayProcess.run(["report", id, "--html", "x.html", "--store", "s.sqlite"], in: directory)
        #expect(gone.status == 2 && gone.stderr.contains("not readable") && gone.stderr.contains("hint:"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.html").path))
    }
}
