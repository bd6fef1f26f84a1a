import AssayTestSupport
import Foundation
import Testing

/// `assay run --reuse`: an evaluation whose evaluator, options, model, data, earlier results and
/// build are unchanged is taken from the store — the same numbers, said on its first metric — and
/// any change to one of them evaluates it again; a speed measurement never is taken.
struct ReuseTests {
    static func suite(in directory: URL, bleuTokenize: String = "13a") throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
        try """
            version: 1
            name: reuse
            models:
              smollm2: { path: "\(model)" }
            datasets:
              notes: { kind: text, path: notes.txt }
              a: { kind: parallel, hypotheses: system-a.txt, references: [reference.txt] }
              b: { kind: parallel, hypotheses: system-b.txt, references: [reference.txt] }
            evaluations:
              - { id: bleu-a, evaluator: bleu, dataset: a, options: { tokenize: \(bleuTokenize) } }
              - { id: chrf-a, evaluator: chrf, dataset: a }
              - { id: chrf-b, evaluator: chrf, dataset: b }
              - { id: delta, evaluator: paired-delta, options: { reference: chrf-a.sentence_chrf, candidate: chrf-b.sentence_chrf, resamples: 200 } }
              - { id: ppl, evaluator: perplexity, model: smollm2, dataset: notes, options: { context: 32, chunks: 4 } }
              - { id: speed, evaluator: throughput, model: smollm2, options: { prompt: 8, generate: 2, repetitions: 2, warmup: 0 } }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
    }

    /// Each evaluation's metrics without notes, and its first metric's note, from the JSON report in `out`.
    static func report(_ out: URL) throws -> (metrics: [String: NSArray], notes: [String: String]) {
        let folder = out.appendingPathComponent("reuse")
        let json = try #require(try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil).first { $0.pathExtension == "json" })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        var metrics: [String: NSArray] = [:], notes: [String: String] = [:]
        for evaluation in document["evaluations"] as? [[String: Any]] ?? [] {
            let id = evaluation["id"] as? String ?? "?"
            let list = evaluation["metrics"] as? [[String: Any]] ?? []
            notes[id] = list.first?["note"] as? String ?? ""
            metrics[id] = list.map { $0.filter { $0.key != "note" } } as NSArray
        }
        return (metrics, notes)
    }

    @Test func unchangedEvaluationsAreTakenChangedOnesRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-reuse")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["system-a.txt", "system-b.txt", "reference.txt"] {
            try FileManager.default.copyItem(at: TestEnvironment.root.appendingPathComponent("Fixtures/mt/\(name)"),
                                             to: directory.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt"),
                                         to: directory.appendingPathComponent("notes.txt"))
        try Self.suite(in: directory)
        func run(_ out: String, _ extra: [String] = ["--reuse"]) throws -> (metrics: [String: NSArray], notes: [String: String]) {
            let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", out, "--format", "text"] + extra, in: directory)
            #expect(result.status == 0, "\(result.stderr)")
            return try Self.report(directory.appendingPathComponent(out))
        }
        let first = try run("first", [])
        #expect(first.notes.values.allSatisfy { !$0.contains("reused") })

        // Nothing changed: all but the speed measurement are taken, with the same numbers.
        let second = try run("second")
        let taken = Set(second.notes.filter { $0.value.contains("reused: the result of run") }.keys)
        #expect(taken == ["bleu-a", "chrf-a", "chrf-b", "delta", "ppl"], "\(second.notes)")
        for id in taken { #expect(second.metrics[id] == first.metrics[id], "\(id)") }

        // Without --reuse everything runs again.
        let plain = try run("plain", [])
        #expect(plain.notes.values.allSatisfy { !$0.contains("reused") })

        // System B's file changes: chrf-b runs, and so does delta, which reads its items.
        var b = try String(contentsOf: directory.appendingPathComponent("system-b.txt"), encoding: .utf8)
        b = b.replacingOccurrences(of: "Committee has approved budget new", with: "The committee approved the new budget")
        try b.write(to: directory.appendingPathComponent("system-b.txt"), atomically: true, encoding: .utf8)
        let third = try run("third")
        #expect(Set(third.notes.filter { $0.value.contains("reused") }.keys) == ["bleu-a", "chrf-a", "ppl"], "\(third.notes)")
        #expect(third.metrics["chrf-b"] != first.metrics["chrf-b"] && third.metrics["delta"] != first.metrics["delta"])

        // An option changes: that evaluation runs.
        try Self.suite(in: directory, bleuTokenize: "intl")
        let fourth = try run("fourth")
        #expect(Set(fourth.notes.filter { $0.value.contains("reused") }.keys) == ["chrf-a", "chrf-b", "delta", "ppl"], "\(fourth.notes)")

        // --reuse is refused with --shard, which opens no store of whole results.
        let sharded = try AssayProcess.run(["run", "suite.yaml", "--shard", "1/2", "--reuse"], in: directory)
        #expect(sharded.status != 0 && sharded.stderr.contains("--reuse takes whole evaluations"), "\(sharded.stderr)")
    }
}
