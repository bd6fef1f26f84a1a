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
        // the scores those of an uncached run (batches differ, so the last bits may).
        let second = try run(b, cached)
        let plain = try run(b, [])
        #expect(second["references_cached"] as? Int == 20 && second["texts_encoded"] as? Int == 20, "\(second)")
        #expect(Self.largestDifference(second, plain) < 1e-6)

        // A damaged row (vectors cut short, or not of unit length) is embedded again, never scored.
        let queue = try DatabaseQueue(path: directory.appendingPathComponent("s.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "UPDATE embedding_cache SET vectors = substr(vectors, 1, 100) WHERE rowid IN (SELECT rowid FROM embedding_cache LIMIT 3)")
            try db.execute(sql: "UPDATE embedding_cache SET vectors = zeroblob(length(vectors)) WHERE rowid IN (SELECT rowid FROM embedding_cache LIMIT 3 OFFSET 3)")
        }
        let repaired = try run(b, cached)
        #expect(repaired["references_cached"] as? Int == 14 && Self.largestDifference(repaired, plain) < 1e-6, "\(repaired)")

        // Another layer is another key: everything is embedded.
        let layer4 = try run(b, cached + ["--layer", "4"])
        #expect(layer4["references_cached"] as? Int == 0 && layer4["texts_encoded"] as? Int == 40)
    }

    @Test func aSuiteEvaluationTakesReferencesFromTheRunsStore() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2").path
        let root = TestEnvironment.root.path
        let directory = try TestEnvironment.temporaryDirectory("assay-bertscore-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            version: 1
            name: cache
            models:
              minilm: { path: "\(encoder)" }
            datasets:
              a: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-b.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
            evaluations:
              - { id: bs, evaluator: bertscore, model: minilm, dataset: a, options: { resamples: 0 } }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        var f1: [Double] = []
        for (run, note) in [("one", false), ("two", true)] {
            let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", run, "--format", "json"], in: directory)
            #expect(result.status == 0, "\(result.stderr)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let metric = try #require(((document["evaluations"] as? [[String: Any]])?.first?["metrics"] as? [[String: Any]])?.first)
            #expect((metric["note"] as? String)?.contains("20 reference embeddings taken from the store") ?? false == note, "\(metric)")
            f1.append(metric["value"] as? Double ?? .nan)
        }
        #expect(abs(f1[0] - f1[1]) < 1e-6)
    }
}
