import AssayStore
import AssayTestSupport
import Foundation
import Testing

/// `assay run --resume`: chunks, drift chunks, rolling documents, generated completions, BERTScore
/// pairs and encoder-drift items (both in blocks) are kept in the store as they finish; a run
/// killed with SIGKILL at six points and interrupted with Ctrl-C at a seventh, each time resumed,
/// ends with the report an uninterrupted run gives.
struct ResumeTests {
    static func suite(in directory: URL) throws {
        let root = TestEnvironment.root.path
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
        let encoder = try TestEnvironment.model("all-minilm-l6-v2").path
        // Three systems with the same outputs: the second and third share their kept rows' keys.
        let hypotheses = try String(contentsOfFile: "\(root)/Fixtures/mt/system-a.txt", encoding: .utf8).split(separator: "\n")
        let references = try String(contentsOfFile: "\(root)/Fixtures/mt/reference.txt", encoding: .utf8).split(separator: "\n")
        let lines = try ["x", "y", "z"].flatMap { system in
            try zip(hypotheses, references).enumerated().map { n, pair in
                String(decoding: try JSONSerialization.data(withJSONObject: ["system": system, "seg_id": n, "hypothesis": String(pair.0),
                                                                             "reference": String(pair.1)], options: [.sortedKeys]), as: UTF8.self)
            }
        }
        try lines.joined(separator: "\n").write(to: directory.appendingPathComponent("twice.jsonl"), atomically: true, encoding: .utf8)
        try """
            version: 1
            name: resume
            models:
              smollm2: { path: "\(model)" }
              minilm: { path: "\(encoder)" }
            datasets:
              notes: { kind: text, path: "\(root)/Fixtures/text/field-notes.txt" }
              a: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-a.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
              twice: { kind: jsonl, path: twice.jsonl, fields: { id: [system, seg_id], hypothesis: hypothesis, references: [reference] } }
            evaluations:
              - { id: ppl, evaluator: perplexity, model: smollm2, dataset: notes, options: { context: 32, chunks: 12 } }
              - { id: drift, evaluator: quant-drift, model: smollm2, reference: smollm2, dataset: notes, options: { context: 32, chunks: 8, quantize: q8_0 } }
              - { id: rolling, evaluator: perplexity, model: smollm2, dataset: notes, options: { mode: rolling, split: paragraphs, context: 32 } }
              - { id: gen, evaluator: generation, model: smollm2, dataset: a, options: { max_tokens: 6 } }
              - { id: bs, evaluator: bertscore, model: minilm, dataset: a, options: { idf: true, batch_tokens: 1 } }
              - { id: ed, evaluator: encoder-drift, model: minilm, dataset: twice, options: { quantize: q4_0, idf: true, batch_tokens: 1 } }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
    }

    /// Each evaluation's metrics (JSON, as written) and the items file of the run in `directory`.
    static func report(in directory: URL) throws -> (metrics: [String: NSArray], notes: [String], items: String) {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        let json = try #require(files.first { $0.pathExtension == "json" })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        var metrics: [String: NSArray] = [:], notes: [String] = []
        for evaluation in document["evaluations"] as? [[String: Any]] ?? [] {
            let list = evaluation["metrics"] as? [[String: Any]] ?? []
            // One note per fact ("resumed: …", BERTScore's "N reference embeddings taken from the store").
            // (Not a paired comparison's verdict, which is part of the metric.)
            let verdicts: Set<String> = ["no significant difference", "significantly worse", "significantly better"]
            notes += list.compactMap { $0["note"] as? String }.flatMap { $0.components(separatedBy: "; ") }.filter { !verdicts.contains($0) }
            // The note saying how many items were resumed is the only difference allowed.
            metrics[evaluation["id"] as? String ?? "?"] = list.map { $0.filter { $0.key != "note" } } as NSArray
        }
        let items = try #require(files.first { $0.lastPathComponent.hasSuffix(".items.jsonl") })
        return (metrics, notes, try String(contentsOf: items, encoding: .utf8))
    }

    static func kept(in store: URL) -> Int {
        guard FileManager.default.fileExists(atPath: store.path) else { return 0 }
        return (try? ResultsStore(url: store).cachedItemCount()) ?? 0
    }

    @Test func fiveKillsThenResumeEqualAnUninterruptedRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-resume")
        try Self.suite(in: directory)
        let whole = try AssayProcess.run(["run", "suite.yaml", "--store", "whole.sqlite", "--out", "whole", "--format", "text"], in: directory)
        #expect(whole.status == 0, "\(whole.stderr)")
        let expected = try Self.report(in: directory.appendingPathComponent("whole/resume"))
        #expect(expected.metrics.count == 6 && expected.notes.isEmpty)

        // 12 chunks, 8 drift chunks, 9 paragraphs and 20 prompts are kept one by one, then 20
        // BERTScore pairs and 60 encoder-drift items (the same 20 texts three times) a block (about 16 tokens of new text: an item
        // or two) at a time: SIGKILL after the 3rd, 15th (in the drift chunks), 24th (in the
        // documents) and 33rd (in the prompts), Ctrl-C after the 42nd (the engine stops the
        // completion in progress early: it must not be kept), and SIGKILL after the 57th (in the
        // BERTScore pairs) and the 100th (in the encoder-drift items of the second system), resuming every time.
        let store = directory.appendingPathComponent("killed.sqlite")
        var counts: [Int] = []
        for (target, signal) in [(3, SIGKILL), (15, SIGKILL), (24, SIGKILL), (33, SIGKILL), (42, SIGINT), (57, SIGKILL), (100, SIGKILL)] {
            let running = try AssayProcess.start(["run", "suite.yaml", "--store", store.path, "--out", "killed", "--resume"], in: directory)
            let deadline = Date().addingTimeInterval(600)
            while Self.kept(in: store) < target, running.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            kill(running.process.processIdentifier, signal)
            running.process.waitUntilExit()
            if signal == SIGKILL {
                #expect(running.process.terminationReason == .uncaughtSignal, "the run ended before item \(target)")
            } else {
                #expect(running.process.terminationStatus == 130, "Ctrl-C: interrupted")
            }
            counts.append(Self.kept(in: store))
        }
        #expect(counts == counts.sorted() && counts.first! >= 3 && counts.last! < 129, "\(counts)")

        let resumed = try AssayProcess.run(["run", "suite.yaml", "--store", store.path, "--out", "resumed", "--resume", "--format", "text"], in: directory)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let got = try Self.report(in: directory.appendingPathComponent("resumed/resume"))
        #expect(got.metrics == expected.metrics)
        #expect(got.items == expected.items)
        let resumedNotes = got.notes.filter { $0.hasPrefix("resumed: ") }
        let taken = resumedNotes.compactMap { note in note.split(separator: " ").dropFirst().first.flatMap { Int($0) } }.reduce(0, +)
        // Every kept row is taken, and the third system's items also take the second's rows
        // (their keys are the same; the store keeps the encoder-drift rows in item order, after 69 others).
        #expect(taken == counts.last! + max(0, min(20, counts.last! - 89)), "\(got.notes)")
        // Besides, the killed runs' reference embeddings may have been taken from the store.
        #expect(got.notes.allSatisfy { $0.hasPrefix("resumed: ") || $0.contains(" reference embedding") })
        #expect(resumedNotes.count == 6, "\(got.notes)")

        // Without --resume nothing is taken (but the references' embeddings).
        let again = try AssayProcess.run(["run", "suite.yaml", "--store", store.path, "--out", "again", "--format", "text"], in: directory)
        let fresh = try Self.report(in: directory.appendingPathComponent("again/resume"))
        #expect(again.status == 0 && fresh.notes.allSatisfy { $0.contains(" reference embedding") })
        #expect(fresh.metrics == expected.metrics && fresh.items == expected.items)
    }
}
