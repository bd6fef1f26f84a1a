import AssayEvaluators
import AssayStore
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

struct ResultsStoreTests {
    static func suite(in directory: URL, name: String = "store-test") throws -> Suite {
        try "a b c d\n".write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try "a b c e\n".write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        let text = """
            version: 1
            name: \(name)
            datasets: { mt: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] } }
            evaluations: [ { id: bleu, evaluator: bleu, dataset: mt } ]
            gates: [ { metric: bleu.score, max_regression: 1 } ]
            """
        let url = directory.appendingPathComponent("suite.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try SuiteLoader().load(url)
    }

    static func record(_ suite: Suite, store: ResultsStore, runID: String, baseline: Baseline? = nil) async throws -> RunOutcome {
        let identity = SuiteRunner.RunIdentity(runID: runID, host: "h", gitCommit: nil)
        try store.begin(runID: runID, suite: suite, started: Date(), host: "h", gitCommit: nil, models: [])
        let outcome = await SuiteRunner().run(suite, identity: identity, models: [], baseline: baseline)
        try store.finish(outcome, reportPath: nil)
        return outcome
    }

    @Test func runsAreIncompleteUntilFinished() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let store = try ResultsStore(url: directory.appendingPathComponent("db/assay.sqlite"))
        let suite = try Self.suite(in: directory)
        try store.begin(runID: "20260101T000000Z-aaaaaa", suite: suite, started: Date(), host: "h", gitCommit: nil, models: [])
        #expect(try store.run("20260101T000000Z-aaaaaa").status == "incomplete")
        #expect(try store.metrics(run: "20260101T000000Z-aaaaaa").isEmpty)
        #expect(throws: StoreError.self) { try store.baseline("latest", suite: suite.name) }
    }

    @Test func finishedRunsStoreMetricsItemsAndServeAsBaseline() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let store = try ResultsStore(url: directory.appendingPathComponent("assay.sqlite"))
        let suite = try Self.suite(in: directory)
        let first = try await Self.record(suite, store: store, runID: "20260101T000000Z-000001")
        #expect(first.verdict == .pass)
        #expect(try store.run("20260101T000000Z-000001").status == "pass")
        let metrics = try store.metrics(run: "20260101T000000Z-000001")
        #expect(metrics.map(\.key) == ["bleu.score", "bleu.bp", "bleu.ratio"])
        #expect(try store.itemCount(run: "20260101T000000Z-000001") == 1)

        let baseline = try store.baseline("latest", suite: suite.name)
        #expect(baseline.runID == "20260101T000000Z-000001")
        #expect(baseline.values["bleu.score"] == metrics[0].value)
        let second = try await Self.record(suite, store: store, runID: "20260101T000000Z-000002", baseline: baseline)
        #expect(second.gates.first?.status == .pass)
        #expect(second.gates.first?.delta == 0)

        #expect(try store.history().map(\.id) == ["20260101T000000Z-000002", "20260101T000000Z-000001"])
        #expect(try store.history(suite: "other").isEmpty)
        #expect(try store.run("20260101T000000Z-000002").id == "20260101T000000Z-000002")
        // A prefix several ids begin with is ambiguous, and says so (it had said "no run").
        #expect(throws: StoreError.ambiguousRun("20260101T000000Z-00000", matches: ["20260101T000000Z-000001", "20260101T000000Z-000002"])) {
            try store.run("20260101T000000Z-00000")
        }
        #expect(throws: StoreError.self) { try store.run("nope") }
        // LIKE's wildcards in a prefix are characters, not patterns: these match no id (as
        // patterns they would match both runs, and be ambiguous).
        for prefix in ["2026_101", "%", "2026%1"] {
            #expect(throws: StoreError.self, "\(prefix)") { try store.run(prefix) }
            do { _ = try store.run(prefix) } catch let error as StoreError {
                if case .unknownRun = error {} else { Issue.record("\(prefix): \(error)") }
            }
        }
    }

    @Test func reopeningKeepsDataAndMigrationsAreIdempotent() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let url = directory.appendingPathComponent("assay.sqlite")
        let suite = try Self.suite(in: directory)
        _ = try await Self.record(suite, store: try ResultsStore(url: url), runID: "20260101T000000Z-000003")
        let reopened = try ResultsStore(url: url)
        #expect(try reopened.history().count == 1)
    }

    @Test func aFileThatIsNotAStoreIsRejected() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let url = directory.appendingPathComponent("not-a-db.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: url)
        #expect(throws: StoreError.self) { try ResultsStore(url: url) }
    }
}
