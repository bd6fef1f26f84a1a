import AssayStore
import AssayTestSupport
import Foundation
import GRDB
import Testing

/// BERTScore reference embeddings kept in the store: a second run with new candidates embeds only
/// the candidates and scores as an uncached run does; another layer or a damaged row is embedded
/// again; a suite's `bertscore` evaluation does the same with the run's store.
struct BERTScoreCacheTests {
    static func json(_ result: AssayProcess) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func largestDifference(_ a: [String: Any], _ b: [String: Any]) -> Double {
        let x = a["f1"] as? [Double] ?? [], y = b["f1"] as? [Double] ?? []
        return x.count == y.count && !x.isEmpty ? zip(x, y).map { abs($0 - $1) }.max()! : .infinity
    }

    @Test func aSecondRunEmbedsOnlyTheCandidates() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2").path
        let fixtures = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        let directory = try TestEnvironment.temporaryDirectory("assay-bertscore-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (a, b, reference) = (fixtures.appendingPathComponent("system-a.txt").path, fixtures.appendingPathComponent("system-b.txt").path,
                                 fixtures.appendingPathComponent("reference.txt").path)
        func run(_ candidates: String, _ extra: [String]) throws -> [String: Any] {
            try Self.json(try AssayProcess.run(["bertscore", candidates, "--ref", reference, "--encoder", encoder, "--format", "json"] + extra,
                                               in: directory))
        }
        let cached = ["--cache-references", "--store", "s.sqlite"]
        let first = try run(a, cached)
        // 37 distinct texts: 3 of system A's lines equal their references.
        #expect(first["references_cached"] as? Int == 0 && first["texts_encoded"] as? Int == 37, "\(first)")
        #expect(try ResultsStore(url: directory.appendingPathComponent("s.sqlite")).cachedEmbeddingCount() == 20)

        // New candidates against the same references: 20 embedded, 20 references from the store,
        // the scores those of an uncached run bit for bit (an embedding does not depend on its batch).
        let second = try run(b, cached)
        let plain = try run(b, [])
        #expect(second["references_cached"] as? Int == 20 && second["texts_encoded"] as? Int == 20, "\(second)")
        #expect(Self.largestDifference(second, plain) == 0)

        // A damaged row (vectors cut short, or not of unit length) is embedded again, never scored.
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("s.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "UPDATE embedding_cache SET vectors = substr(vectors, 1, 100) WHERE rowid IN (SELECT rowid FROM embedding_cache LIMIT 3)")
            try db.execute(sql: "UPDATE embedding_cache SET vectors = zeroblob(length(vectors)) WHERE rowid IN (SELECT rowid FROM embedding_cache LIMIT 3 OFFSET 3)")
        }
        let repaired = try run(b, cached)
        #expect(repaired["references_cached"] as? Int == 14 && Self.largestDifference(repaired, plain) == 0, "\(repaired)")

        // Another layer is another key: everything is embedded.
        let layer4 = try run(b, cached + ["--layer", "4"])
        #expect(layer4["references_cached"] as? Int == 0 && layer4["texts_encoded"] as? Int == 40)
    }

    /// In a suite the run's store keeps the references; `--reuse` takes the whole evaluation,
    /// without the first run's note about the store, and takes it no more once a file of the
    /// encoder's directory other than its weights (tokenizer_config.json) changes.
    @Test func aSuiteEvaluationTakesReferencesFromTheRunsStore() throws {
        let root = TestEnvironment.root.path
        let directory = try TestEnvironment.temporaryDirectory("assay-bertscore-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let encoder = directory.appendingPathComponent("minilm")
        try FileManager.default.copyItem(at: try TestEnvironment.model("all-minilm-l6-v2"), to: encoder)
        try """
            version: 1
            name: cache
            models:
              minilm: { path: minilm }
            datasets:
              b: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-b.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
            evaluations:
              - { id: bs, evaluator: bertscore, model: minilm, dataset: b, options: { resamples: 0 } }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        func run(_ out: String, _ extra: [String] = []) throws -> (note: String, f1: Double, reusedFrom: String?, runID: String) {
            let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", out, "--format", "json"] + extra, in: directory)
            #expect(result.status == 0, "\(result.stderr)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let evaluation = try #require((document["evaluations"] as? [[String: Any]])?.first)
            let metric = try #require((evaluation["metrics"] as? [[String: Any]])?.first)
            return (metric["note"] as? String ?? "", metric["value"] as? Double ?? .nan, evaluation["reused_from"] as? String,
                    document["run_id"] as? String ?? "")
        }
        let one = try run("one"), two = try run("two")
        #expect(!one.note.contains("taken from the store") && two.note.contains("20 reference embeddings taken from the store"), "\(two.note)")
        #expect(one.f1 == two.f1 && one.reusedFrom == nil)

        // --reuse: the last kept result, with the note of how it was obtained left behind.
        let three = try run("three", ["--reuse"])
        #expect(three.reusedFrom == two.runID && three.f1 == two.f1, "\(three)")
        #expect(three.note.contains("reused: the result of run \(two.runID)") && !three.note.contains("taken from the store"), "\(three.note)")

        // A tokenizer setting changes: the encoder is not the same, nothing is reused.
        let config = encoder.appendingPathComponent("tokenizer_config.json")
        var settings = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        settings["assay_test_marker"] = true
        try JSONSerialization.data(withJSONObject: settings).write(to: config)
        let four = try run("four", ["--reuse"])
        #expect(four.reusedFrom == nil && !four.note.contains("reused"), "\(four.note)")
    }
}
