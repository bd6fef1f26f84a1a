import AssayEvaluators
import AssayReport
import AssaySuite
import AssayTestSupport
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Runs a suite with a passing, a failing-gate and an erroring evaluation, writes every report
/// and checks them against the schema and each other.
struct ReportWriterTests {
    static func outcome(in directory: URL) async throws -> RunOutcome {
        try "the cat sat on the mat\na dog\n".write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try "the cat sat on the mat\na dog barked\n".write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        try "only one line\n".write(to: directory.appendingPathComponent("short.txt"), atomically: true, encoding: .utf8)
        let text = """
            version: 1
            name: report-test
            datasets:
              good: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }
              bad: { kind: parallel, hypotheses: hyp.txt, references: [short.txt] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: good }
              - { id: chrf, evaluator: chrf, dataset: good }
              - { id: broken, evaluator: bleu, dataset: bad }
            gates:
              - { metric: bleu.score, min: 10, max_regression: 0.5 }
              - { metric: chrf.score, max: 1 }
              - { metric: broken.score, min: 1 }
            """
        let url = directory.appendingPathComponent("suite.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        let suite = try SuiteLoader().load(url)
        let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: "test-host", gitCommit: nil)
        return await SuiteRunner().run(suite, identity: identity, models: [],
                                       baseline: Baseline(runID: "20260101T000000Z-000000", values: ["bleu.score": 99]))
    }

    @Test func runnerRecordsErrorsAndKeepsOtherResults() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let outcome = try await Self.outcome(in: directory)
        #expect(outcome.evaluations.map(\.status) == [.ok, .ok, .error])
        #expect(outcome.evaluations[2].error?.errorDescription?.contains("short.txt: has 1 lines but the hypotheses have 2") == true)
        #expect(outcome.gates.map(\.status) == [.pass, .fail, .fail, .error])
        #expect(outcome.gates[1].rule == "max_regression")
        #expect(outcome.verdict == .error)
    }

    /// An error verdict whose evaluations all ran (a gated metric without a value) names the gate;
    /// it had read "0 evaluation(s) could not run: .".
    @Test func anUnjudgedGateIsNamedInTheVerdict() async throws {
        var outcome = try await Self.outcome(in: directory())
        outcome.evaluations.removeLast()
        outcome.gates[3].metric = "chrf.speedup"
        outcome.gates[3].message = "metric has no value"
        let markdown = MarkdownReport.render(outcome)
        #expect(markdown.contains("1 gate rule(s) could not be judged: chrf.speedup — metric has no value."), "\(markdown.prefix(400))")
        #expect(!markdown.contains("could not run"))
        // With an evaluation that failed, its own gate is not listed again.
        let failed = MarkdownReport.render(try await Self.outcome(in: directory()))
        #expect(failed.contains("1 evaluation(s) could not run: broken.") && !failed.contains("could not be judged"))
    }

    func directory() throws -> URL { try TestEnvironment.temporaryDirectory() }

    @Test func everyReportIsWrittenAndValid() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let outcome = try await Self.outcome(in: directory)
        let summary = directory.appendingPathComponent("step-summary.md")
        try "previous step\n".write(to: summary, atomically: true, encoding: .utf8)
        let written = try ReportWriter(directory: directory.appendingPathComponent("reports"))
            .write(outcome, junit: directory.appendingPathComponent("junit.xml"), stepSummary: summary)

        #expect(written.json.path.hasSuffix("reports/report-test/\(outcome.runID).json"))
        let validator = try JSONSchemaValidator(schemaAt: TestEnvironment.reportSchema)
        let json = try Data(contentsOf: written.json)
        #expect(try validator.violations(of: json) == [])
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["verdict"] as? String == "error")
        #expect((object["gates"] as? [[String: Any]])?.count == 4)

        let items = try String(contentsOf: try #require(written.items), encoding: .utf8).split(separator: "\n")
        #expect(items.count == 4)
        #expect(items[0].contains("\"evaluation\":\"bleu\"") && items[0].contains("\"sentence_bleu\""))

        let markdown = try String(contentsOf: written.markdown, encoding: .utf8)
        #expect(markdown.hasPrefix("# ⚠️ ERROR — report-test"))
        let gatesAt = try #require(markdown.range(of: "## Gates"))
        let evaluationsAt = try #require(markdown.range(of: "## Evaluations"))
        #expect(gatesAt.lowerBound < evaluationsAt.lowerBound)
        #expect(markdown.contains("| ❌ | chrf.score | max |"))

        let stepSummary = try String(contentsOf: summary, encoding: .utf8)
        #expect(stepSummary.hasPrefix("previous step\n# ⚠️ ERROR"))

        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.components(separatedBy: "<testcase ").count - 1 == 7)
        #expect(junit.components(separatedBy: "<failure ").count - 1 == 2)
        #expect(junit.contains("failures=\"2\" errors=\"2\""))
        let parser = XMLParser(data: Data(junit.utf8))
        #expect(parser.parse())

        let leftovers = try FileManager.default.contentsOfDirectory(atPath: written.json.deletingLastPathComponent().path)
            .filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func itemsCanBeShownAsATable() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var outcome = try await Self.outcome(in: directory)
        outcome.evaluations[0].itemsInReport = true
        let written = try ReportWriter(directory: directory.appendingPathComponent("reports")).write(outcome, junit: nil, stepSummary: nil)
        let markdown = try String(contentsOf: written.markdown, encoding: .utf8)
        #expect(markdown.contains("| Item | sentence\\_bleu | stats |\n|---|---:|---:|\n| 1 | 100 |  |"), "\(markdown)")
        #expect(markdown.components(separatedBy: "| Item |").count == 2)   // only the evaluation that asked
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        ("line1\nline2", "line1<br>line2"),
        ("crlf\r\nend", "crlf<br>end"),
        ("<script>alert('x')</script>", "&lt;script&gt;alert('x')&lt;/script&gt;"),
        ("**bold** `code` [link](x)", "\\*\\*bold\\*\\* \\`code\\` \\[link\\](x)"),
        ("a & b", "a &amp; b"),
    ])
    func markdownCellEscaping(_ input: String, _ expected: String) {
        #expect(MarkdownEscaping.cell(input) == expected)
    }

    @Test func codeSpansSurviveBackticks() {
        #expect(MarkdownEscaping.code("a`b") == "``a`b``")
        #expect(MarkdownEscaping.code("x\ny") == "`x y`")
    }
}
