import AssayCore
import AssayEvaluators
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

/// `assay run --shard I/N` and `assay merge`: the shards' blocks partition every dataset, the
/// scheduler's index is read from its environment, a merge of the shard files equals an unsharded
/// run value for value for every evaluator, and shards that do not make one run are refused.
struct ShardingTests {
    @Test func blocksPartitionTheItemsInOrder() throws {
        for total in [0, 1, 2, 7, 20, 1000] {
            for count in [1, 2, 3, 7, 25] {
                let ranges = try (1...count).map { try Shard(index: $0, count: count).range(of: total) }
                #expect(ranges.flatMap { Array($0) } == Array(0..<total), "\(total) items in \(count) shards")
                #expect(ranges.map(\.count).max()! - ranges.map(\.count).min()! <= 1)
            }
        }
        #expect(throws: Diagnostic.self) { try Shard(index: 0, count: 4) }
        #expect(throws: Diagnostic.self) { try Shard(index: 5, count: 4) }
        #expect(throws: Diagnostic.self) { try Shard(index: 1, count: 0) }
        #expect(throws: Diagnostic.self) { try Shard(index: 1, count: Shard.maximumCount + 1) }
    }

    @Test func theIndexComesFromTheSchedulersEnvironment() throws {
        #expect(try Shard(parsing: "2/4", environment: [:]) == Shard(index: 2, count: 4))
        // Kubernetes Indexed Job: a 0-based index, the count from the command line.
        #expect(try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "0"]) == Shard(index: 1, count: 4))
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto", environment: ["JOB_COMPLETION_INDEX": "0"]) }
        // Slurm: --array=1-4 gives ids 1…4 with SLURM_ARRAY_TASK_MIN=1.
        let slurm = ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]
        #expect(try Shard(parsing: "auto", environment: slurm) == Shard(index: 3, count: 4))
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto/5", environment: slurm) }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto", environment: slurm.merging(["SLURM_ARRAY_TASK_STEP": "2"]) { $1 }) }
        #expect(try Shard(parsing: "auto", environment: ["ASSAY_SHARD": "4/4", "JOB_COMPLETION_INDEX": "0"]) == Shard(index: 4, count: 4))
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "\(Int.max)"]) }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto", environment: ["SLURM_ARRAY_TASK_ID": "\(Int.min)", "SLURM_ARRAY_TASK_MIN": "\(Int.max)", "SLURM_ARRAY_TASK_COUNT": "4"]) }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto", environment: ["SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"]) }
        #expect { try Shard(parsing: "auto", environment: ["ASSAY_SHARD": "5/4"]) } throws: { ($0 as? Diagnostic)?.message.contains("ASSAY_SHARD") == true }
        for bad in ["", "2", "2/", "/4", "a/4", "2/4/6", "auto/x", "0/4", "5/4", "-1/4"] {
            #expect(throws: Diagnostic.self, "\(bad)") { try Shard(parsing: bad, environment: [:]) }
        }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto", environment: [:]) }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "four"]) }
        #expect(throws: Diagnostic.self) { try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "4"]) }
        // Negative indices and task counts say what is wrong with them (they had read "more than -1 here", "the array's -4 tasks").
        #expect { try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "-1"]) } throws: {
            ($0 as? Diagnostic)?.hint?.contains("never negative") == true
        }
        for count in ["0", "-4"] {
            #expect { try Shard(parsing: "auto", environment: ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": count]) } throws: {
                ($0 as? Diagnostic)?.message.contains("SLURM_ARRAY_TASK_COUNT is \(count), not a number of tasks") == true
            }
        }
    }

    /// Every evaluator but `serving` (which needs a server; it runs whole in shard 1 as
    /// `throughput` does), on the project's fixtures, SmolLM2 and MiniLM.
    static func suite(in directory: URL) throws -> URL {
        let root = TestEnvironment.root.path
        let smollm2 = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
        let minilm = try TestEnvironment.model("all-minilm-l6-v2").path
        let yaml = """
            version: 1
            name: sharding
            models:
              smollm2: { path: "\(smollm2)" }
              minilm: { path: "\(minilm)" }
            datasets:
              notes: { kind: text, path: "\(root)/Fixtures/text/field-notes.txt" }
              a: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-a.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
              b: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-b.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
              mt: { kind: jsonl, path: "\(root)/Fixtures/mt/quickstart.jsonl", fields: { id: id, hypothesis: hypothesis, references: [references] } }
              ratings: { kind: ratings, path: "\(root)/Fixtures/ratings/quickstart.csv", scale: [1, 2, 3, 4, 5] }
              hostile: { kind: jsonl, path: hostile.jsonl }
            evaluations:
              - { id: bleu-hostile, evaluator: bleu, dataset: hostile }
              - { id: bleu-a, evaluator: bleu, dataset: a, options: { confidence: true, resamples: 200 } }
              - { id: chrf-a, evaluator: chrf, dataset: a, options: { confidence: true, resamples: 200 } }
              - { id: chrfpp-b, evaluator: chrf, dataset: b, options: { word_order: 2 } }
              - { id: bleu-mt, evaluator: bleu, dataset: mt }
              - { id: bertscore-a, evaluator: bertscore, model: minilm, dataset: a, options: { idf: true } }
              - { id: encoder-drift, evaluator: encoder-drift, model: minilm, dataset: b, options: { resamples: 200 } }
              - { id: ppl, evaluator: perplexity, model: smollm2, dataset: notes, options: { context: 64 } }
              - { id: ppl-256, evaluator: perplexity, model: smollm2, dataset: notes, options: { context: 256 } }
              - { id: ppl-rolling, evaluator: perplexity, model: smollm2, dataset: notes, options: { mode: rolling, split: paragraphs, context: 64 } }
              - { id: gen, evaluator: generation, model: smollm2, dataset: b, options: { max_tokens: 3 } }
              - { id: speed, evaluator: throughput, model: smollm2, options: { prompt: 8, generate: 2, repetitions: 2, warmup: 0 } }
              - { id: drift, evaluator: quant-drift, model: smollm2, reference: smollm2, dataset: notes, options: { context: 64, chunks: 2, quantize: q8_0 } }
              - { id: delta, evaluator: paired-delta, options: { reference: chrfpp-b.sentence_chrf, candidate: gen.sentence_chrf } }
              - { id: humans, evaluator: human-agreement, dataset: ratings, options: { metric: bleu-mt.sentence_bleu, resamples: 200 } }
              - { id: raters, evaluator: inter-rater, dataset: ratings }
            gates:
              - { metric: bleu-a.score, min: 40 }
              - { metric: ppl.perplexity, max: 1000 }
              - { metric: delta.delta, max: 1000 }
            """
        let url = directory.appendingPathComponent("sharding.yaml")
        try Data(yaml.utf8).write(to: url)
        let lines = try hostile.map { hypothesis, reference in
            String(decoding: try JSONSerialization.data(withJSONObject: ["hypothesis": hypothesis, "reference": reference]), as: UTF8.self)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("hostile.jsonl"))
        return url
    }

    /// Texts that look like secrets to a mask over free text: a shard file keeps them exactly.
    static let hostile = [
        ("The bearer bonds matured in May.", "The bearer bonds matured in May."),
        (#"See https://example.org/?token=abc"q and &key=value."#, #"See https://example.org/?token=abc"q and &key=value."#),
        ("Log in as https://user:pass@host/ now.", "Log in as https://user:pass@host/ now, please."),
        (#"A backslash \ and a quote " in one."#, #"A backslash \ and a quote " in one line."#),
    ]

    /// Runs each shard, writes and reads its file as `assay run --shard` and `assay merge` do.
    static func shards(of suite: Suite, count: Int, in directory: URL) async throws -> [ShardReport] {
        var reports: [ShardReport] = []
        for index in 1...count {
            let shard = try Shard(index: index, count: count)
            let report = await SuiteRunner().runShard(suite, shard: shard, identity: .init(runID: SuiteRunner.RunIdentity.newRunID(), host: "h", gitCommit: nil), models: [])
            let url = directory.appendingPathComponent(ShardReport.fileName(shard))
            try JSONEncoder().encode(report).write(to: url)
            reports.append(try ShardReport.load(url))
            #expect(reports.last == report, "the shard file keeps every value")
        }
        return reports
    }

    /// A run's JSON report and items file, by evaluation id: (signature, metrics, items).
    static func report(in directory: URL) throws -> [String: (signature: String, metrics: NSArray, items: [String])] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        let json = try #require(files.first { $0.pathExtension == "json" && !$0.lastPathComponent.hasPrefix("shard-") })
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        var items: [String: [String]] = [:]
        if let file = files.first(where: { $0.lastPathComponent.hasSuffix(".items.jsonl") }) {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                items[row["evaluation"] as? String ?? "?", default: []].append(String(line))
            }
        }
        var result: [String: (String, NSArray, [String])] = [:]
        for evaluation in document["evaluations"] as? [[String: Any]] ?? [] {
            let id = evaluation["id"] as? String ?? "?"
            #expect(evaluation["status"] as? String == "ok", "\(id): \(evaluation)")
            result[id] = (evaluation["signature"] as? String ?? "", (evaluation["metrics"] as? NSArray) ?? [], items[id] ?? [])
        }
        return result
    }

    /// Through the executable, each shard and the merge in their own process as on a cluster (and
    /// so that no other test changes OpenBLAS's thread count mid-run: the decoder's sgemm rounds
    /// differently with another thread count; the encoder's products do not).
    @Test func aMergeOfShardFilesEqualsTheUnshardedRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-sharding")
        _ = try Self.suite(in: directory)
        let whole = try AssayProcess.run(["run", "sharding.yaml", "--out", "whole", "--store", "whole.db", "--format", "text"], in: directory)
        #expect(whole.status == 0, "\(whole.stderr)")
        let expected = try Self.report(in: directory.appendingPathComponent("whole/sharding"))
        #expect(Set(expected.keys).count == 16)

        // 3 shards, and 7: the 3 chunks of ppl-256 leave 4 shards without a chunk.
        for count in [3, 7] {
            let out = "shards-\(count)"
            for index in 1...count {
                let shard = try AssayProcess.run(["run", "sharding.yaml", "--shard", "\(index)/\(count)", "--out", out], in: directory)
                #expect(shard.status == 0, "shard \(index)/\(count): \(shard.stderr)")
            }
            let files = (1...count).map { "\(out)/sharding/shard-\($0)-of-\(count).json" }
            let merge = try AssayProcess.run(["merge"] + files.reversed() + ["--out", "merged-\(count)", "--store", "merged.db", "--format", "text"], in: directory)
            #expect(merge.status == 0 && merge.stdout.hasPrefix("pass "), "\(merge.stderr)")
            let merged = try Self.report(in: directory.appendingPathComponent("merged-\(count)/sharding"))
            let first = try ShardReport.load(directory.appendingPathComponent(files[0]))
            for (id, a) in expected {
                let b = try #require(merged[id], "\(id)")
                if id == "speed" {
                    // Timings differ from run to run: the merge takes shard 1's unchanged.
                    let shard1 = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(files[0]))) as? [String: Any])
                    let evaluation = (shard1["evaluations"] as? [[String: Any]])?.first { $0["id"] as? String == id }
                    let values = { (metrics: NSArray?) in (metrics as? [[String: Any]])?.map { $0["value"] as? NSNumber } }
                    #expect(b.signature == first.evaluations.first { $0.id == id }?.signature)
                    #expect(values(b.metrics) == values(evaluation?["metrics"] as? NSArray) && b.metrics.count > 0)
                    continue
                }
                #expect(a.signature == b.signature, "\(id)")
                #expect(a.metrics == b.metrics, "\(id): \(a.metrics) vs \(b.metrics)")
                #expect(a.items == b.items, "\(id)")
            }
            // The shard files keep texts a mask over free text would change, exactly.
            let texts = try (1...count).flatMap { index in
                Self.outcome(try ShardReport.load(directory.appendingPathComponent(files[index - 1])), "bleu-hostile").items.compactMap { $0.values["hypothesis"]?.string }
            }
            #expect(texts == Self.hostile.map(\.0))
            // Split evaluations ran on each shard's block only (drift: 2 chunks, one in each of the first two shards; bertscore and encoder drift: their pairs).
            for id in ["ppl", "drift", "bertscore-a", "encoder-drift"] {
                let perShard = try (1...count).map { Self.outcome(try ShardReport.load(directory.appendingPathComponent(files[$0 - 1])), id).items.count }
                #expect(perShard.reduce(0, +) == expected[id]!.items.count && perShard.max()! < expected[id]!.items.count, "\(id): \(perShard)")
            }
        }
    }

    static func outcome(_ shard: ShardReport, _ id: String) -> ShardReport.Evaluation {
        shard.evaluations.first(where: { $0.id == id }) ?? ShardReport.Evaluation(id: id, evaluator: "?", mode: .items)
    }

    @Test func shardsThatAreNotOneRunAreRefused() async throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-sharding")
        let root = TestEnvironment.root.path
        let yaml = """
            version: 1
            name: refusals
            datasets:
              a: { kind: parallel, hypotheses: "\(root)/Fixtures/mt/system-a.txt", references: ["\(root)/Fixtures/mt/reference.txt"] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: a }
              - { id: chrf, evaluator: chrf, dataset: a }
            """
        let url = directory.appendingPathComponent("refusals.yaml")
        try Data(yaml.utf8).write(to: url)
        let suite = try SuiteLoader().load(url)
        let shards = try await Self.shards(of: suite, count: 3, in: directory)
        func refusal(_ shards: [ShardReport], _ text: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            do {
                _ = try await SuiteRunner().merge(suite, shards: shards, identity: .init(runID: "m", host: "h", gitCommit: nil), models: [], baseline: nil)
                Issue.record("merged, expected a refusal containing '\(text)'", sourceLocation: sourceLocation)
            } catch let problem as Diagnostic {
                #expect(problem.message.contains(text), "\(problem.message)", sourceLocation: sourceLocation)
                #expect(problem.hint != nil, sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        await refusal([shards[0], shards[2]], "shard 2 of 3 missing")
        await refusal(shards + [shards[1]], "given twice")
        await refusal([], "no shard files")
        var other = shards[1]
        other.suiteHash = String(repeating: "0", count: 64)
        await refusal([shards[0], other, shards[2]], "now has")
        var four = try await Self.shards(of: suite, count: 4, in: directory)
        await refusal([shards[0], four[1], shards[2]], "in 4")
        var signed = shards[2]
        signed.evaluations[0].signature = signed.evaluations[0].signature.replacingOccurrences(of: "tok:13a", with: "tok:intl")
        await refusal([shards[0], shards[1], signed], "signature")
        var stopped = shards[1]
        stopped.evaluations[1].status = .interrupted
        await refusal([shards[0], stopped, shards[2]], "interrupted")
        var models = shards.map { shard in
            var s = shard
            s.models = [ModelInfo(name: "m", path: "/m.gguf", sha256: String(repeating: s.shard.index == 2 ? "b" : "a", count: 64), format: "gguf")]
            return s
        }
        await refusal(models, "model 'm' differs")
        models[1].models[0].sha256 = models[0].models[0].sha256
        _ = try await SuiteRunner().merge(suite, shards: models, identity: .init(runID: "m", host: "h", gitCommit: nil), models: [], baseline: nil)

        // Shards that read different data: another file, another item count, a block of the wrong size.
        var data = shards[1]
        data.evaluations[0].datasetSHA256 = String(repeating: "f", count: 64)
        await refusal([shards[0], data, shards[2]], "read different data")
        var counted = shards[2]
        counted.evaluations[0].itemsTotal = 21
        await refusal([shards[0], shards[1], counted], "read different data")
        var short = shards[1]
        short.evaluations[0].items.removeLast()
        await refusal([shards[0], short, shards[2]], "rows in shard 2/3")
        var untold = shards[0]
        untold.evaluations[0].itemsTotal = nil
        await refusal([untold, shards[1], shards[2]], "how many items")
        // An item id that another shard holds (an edited file).
        var twice = shards[1]
        twice.evaluations[0].items[0].id = shards[0].evaluations[0].items[0].id
        await refusal([shards[0], twice, shards[2]], "and again in shard 2/3")

        // A row without its statistics fails that evaluation with the item named; the other merges.
        four[3].evaluations[0].items[0].values["stats"] = .array([.number(1.5)])
        let merged = try await SuiteRunner().merge(suite, shards: four, identity: .init(runID: "m", host: "h", gitCommit: nil), models: [], baseline: nil)
        #expect(merged.evaluations[0].status == .error && merged.evaluations[1].status == .ok)
        #expect(merged.evaluations[0].error?.location == "item '16'", "\(String(describing: merged.evaluations[0].error))")
        // A chart name that is a path is refused before anything is written.
        var charted = four[0]
        charted.evaluations[0].artifacts = [Artifact(name: "../../escape.svg", title: "t", chart: .bars(title: "t", unit: "u", bars: []))]
        let chartFile = directory.appendingPathComponent("charted.json")
        try JSONEncoder().encode(charted).write(to: chartFile)
        #expect { try ShardReport.load(chartFile) } throws: { ($0 as? Diagnostic)?.message.contains("not a plain file name") == true }
        // The run fields merge reports are within what a run writes (found by probing shard files,
        // 2026-12-07): two edited durations of 1e308 had summed to infinity, which the report
        // writer refused as "EncodingError.invalidValue" after the merge; a start in the year
        // 5,828,963 and a run id that is a path had been reported as they were. A wall clock that
        // stepped back (a finish before the start, a duration just below 0) is a run's.
        var stepped = four[0]
        stepped.finished = stepped.started.addingTimeInterval(-60)
        stepped.evaluations[1].seconds = -0.5
        try JSONEncoder().encode(stepped).write(to: chartFile)
        _ = try ShardReport.load(chartFile)
        for (edit, text) in [({ (s: inout ShardReport) in s.evaluations[0].seconds = 1e308 }, "took 1e+308 seconds"),
                             ({ $0.evaluations[1].seconds = -1e9 }, "took -1000000000.0 seconds"),
                             ({ $0.started = Date(timeIntervalSinceReferenceDate: 1e308) }, "'started' is 1e+308 s"),
                             ({ $0.finished = Date(timeIntervalSince1970: -1) }, "'finished' is"),
                             ({ $0.runID = "../../etc" }, #"run_id "../../etc" is not"#),
                             ({ $0.runID = "20261207T115018Z-0b55de\u{1B}[2J" }, #"is not a run id"#)] as [((inout ShardReport) -> Void, String)] {
            var edited = four[0]
            edit(&edited)
            try JSONEncoder().encode(edited).write(to: chartFile)
            #expect { try ShardReport.load(chartFile) } throws: { ($0 as? Diagnostic)?.message.contains(text) == true }
        }
        // A file that is not a shard report is named with what is wrong.
        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"format": "assay-shard/1"}"#.utf8).write(to: bad)
        #expect { try ShardReport.load(bad) } throws: { ($0 as? Diagnostic)?.message.contains("bad.json") == true }
        // What is wrong is said in JSON's terms: an element of a list by its index, a count no
        // integer holds apart from a file that is not JSON (found by probing, 2026-12-07).
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(four[0])) as? [String: Any])
        var evaluations = try #require(object["evaluations"] as? [[String: Any]])
        evaluations[0]["status"] = 7
        object["evaluations"] = evaluations
        try JSONSerialization.data(withJSONObject: object).write(to: bad)
        #expect { try ShardReport.load(bad) } throws: { ($0 as? Diagnostic)?.message.contains("'evaluations[0].status' has the wrong type") == true }
        try Data("{not json".utf8).write(to: bad)
        #expect { try ShardReport.load(bad) } throws: { ($0 as? Diagnostic)?.message.contains("(not JSON)") == true }
    }

    /// The encoder evaluations in more shards than pairs: the shards without a pair give no rows
    /// and the signature, a layer the encoder lacks fails in them too, and the merge equals the
    /// unsharded run (in process: the thread count here is whatever other tests set, which the
    /// encoder's products do not depend on).
    @Test func encoderEvaluationsMergeFromMoreShardsThanPairs() async throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-sharding-encoder")
        defer { try? FileManager.default.removeItem(at: directory) }
        let minilm = try TestEnvironment.model("all-minilm-l6-v2").path
        try "A cat sat on the mat.\nThe results were published in May.\nIt rained.\n".write(to: directory.appendingPathComponent("h.txt"), atomically: true, encoding: .utf8)
        try "The cat sat on the mat.\nResults came out in May.\nIt rained.\n".write(to: directory.appendingPathComponent("r.txt"), atomically: true, encoding: .utf8)
        func suite(layer: Int) throws -> Suite {
            let url = directory.appendingPathComponent("encoders-\(layer).yaml")
            try """
                version: 1
                name: encoders
                models: { minilm: { path: "\(minilm)" } }
                datasets: { d: { kind: parallel, hypotheses: "\(directory.path)/h.txt", references: ["\(directory.path)/r.txt"] } }
                evaluations:
                  - { id: bs, evaluator: bertscore, model: minilm, dataset: d, options: { idf: true, layer: \(layer), resamples: 50 } }
                  - { id: ed, evaluator: encoder-drift, model: minilm, dataset: d, options: { quantize: q4_0, layer: \(layer), resamples: 50 } }
                """.write(to: url, atomically: true, encoding: .utf8)
            return try SuiteLoader().load(url)
        }
        let identity = SuiteRunner.RunIdentity(runID: "r", host: "h", gitCommit: nil)
        let whole = await SuiteRunner().run(try suite(layer: 6), identity: identity, models: [], baseline: nil)
        let shards = try await Self.shards(of: try suite(layer: 6), count: 5, in: directory)
        #expect(shards.map { Self.outcome($0, "bs").items.count } == [1, 1, 1, 0, 0])
        #expect(shards.map { Self.outcome($0, "ed").items.count } == [1, 1, 1, 0, 0])
        let merged = try await SuiteRunner().merge(try suite(layer: 6), shards: shards, identity: identity, models: [], baseline: nil)
        for (a, b) in zip(whole.evaluations, merged.evaluations) {
            #expect(a.status == .ok && b.status == .ok, "\(a.id): \(String(describing: a.error)) \(String(describing: b.error))")
            #expect(a.signature == b.signature && a.metrics == b.metrics && a.items == b.items, "\(a.id)")
        }
        // Layer 9 of a 6-layer encoder fails in the empty shards as in the others.
        let wrong = try await Self.shards(of: try suite(layer: 9), count: 5, in: directory)
        for shard in wrong {
            #expect(Self.outcome(shard, "bs").status == .error && Self.outcome(shard, "ed").status == .error, "shard \(shard.shard)")
        }
    }

    /// Rows a merge reads are checked before arithmetic touches them: no overflow, no empty
    /// reference list, and a NaN written as null still ends as the run's non-finite error.
    @Test func hostileRowsGiveErrorsNotTraps() async throws {
        let context = EvaluationContext(evaluationID: "e")
        let perplexity = try PerplexityEvaluator(options: OptionValues(specs: PerplexityEvaluator.options, given: [:]))
        let huge: [String: JSONValue] = ["tokens": .number(9.2e18), "nll_sum": .number(1), "nll_sq_sum": .number(1)]
        #expect(throws: EvaluatorError.self) { try perplexity.merge(items: [ItemRow(id: "chunk-1", values: huge)], signature: "s", in: context) }
        let null: [String: JSONValue] = ["tokens": .number(255), "nll_sum": .null, "nll_sq_sum": .number(1)]
        let result = try perplexity.merge(items: [ItemRow(id: "chunk-1", values: null)], signature: "s", in: context)
        let (_, problem) = SuiteRunner.finite(result.metrics, of: PerplexityEvaluator.self)
        #expect(problem?.message.contains("non-finite") == true)
        // Rows out of their place among the chunks (an edited id) are refused.
        // (A chunk of the default context, 512, scores 255 tokens.)
        let fine: [String: JSONValue] = ["tokens": .number(255), "nll_sum": .number(255), "nll_sq_sum": .number(300)]
        _ = try perplexity.merge(items: [ItemRow(id: "chunk-1", values: fine), ItemRow(id: "chunk-2", values: fine)], signature: "s", in: context)
        #expect(throws: EvaluatorError.self) {
            try perplexity.merge(items: [ItemRow(id: "chunk-1", values: fine), ItemRow(id: "chunk-9", values: fine)], signature: "s", in: context)
        }

        // Sums no scored tokens give (found by probing shard files, 2026-12-06): a negative NLL sum
        // had merged into a perplexity of 0, a chunk of 0 tokens with 31 NLLs into 758 for 251,
        // (Σ x)² > n·Σ x² is impossible; so is another token count than a chunk scores.
        for (values, text) in [(["tokens": .number(255), "nll_sum": .number(-1e6), "nll_sq_sum": .number(1)], "cannot come from 255 scored tokens"),
                               (["tokens": .number(255), "nll_sum": .number(255), "nll_sq_sum": .number(200)], "cannot come from 255 scored tokens"),
                               (["tokens": .number(0), "nll_sum": .number(100), "nll_sq_sum": .number(400)], "it scores 0 tokens; a chunk of 512 scores 255")]
            as [([String: JSONValue], String)] {
            #expect { try perplexity.merge(items: [ItemRow(id: "chunk-1", values: values)], signature: "s", in: context) } throws: {
                ($0 as? EvaluatorError)?.errorDescription?.contains(text) == true
            }
        }
        // A server's log-probabilities may reach +1e-4 (RemoteScoring), so a predictable chunk's
        // NLL sum may be slightly negative: accepted within that.
        _ = try perplexity.merge(items: [ItemRow(id: "chunk-1", values: ["tokens": .number(255), "nll_sum": .number(-0.01), "nll_sq_sum": .number(0.0001)])],
                                 signature: "s", in: context)
        #expect(PerplexityEvaluator.consistent(nll: [-5e-5, 0, 1], sum: 0.99995, squares: 1.0000000025))
        let rolling = try PerplexityEvaluator(options: OptionValues(specs: PerplexityEvaluator.options, given: ["mode": .string("rolling")]))
        let empty: [String: JSONValue] = ["tokens": .number(0), "nll_sum": .number(100), "nll_sq_sum": .number(400), "words": .number(3), "bytes": .number(9)]
        #expect(throws: EvaluatorError.self) { try rolling.merge(items: [ItemRow(id: "document-1", values: empty)], signature: "s", in: context) }
        // The resume cache's rows: the sums must be the listed NLLs' (each ≥ 0), or the part is scored again.
        #expect(PerplexityEvaluator.consistent(nll: [1, 2, 0.5], sum: 3.5, squares: 5.25))
        #expect(!PerplexityEvaluator.consistent(nll: [1, 2, 0.5], sum: -1e6, squares: 5.25))
        #expect(!PerplexityEvaluator.consistent(nll: [1, 2, 0.5], sum: 3.5, squares: 1))
        #expect(!PerplexityEvaluator.consistent(nll: [-1, 2, 2.5], sum: 3.5, squares: 11.25))
        // BLEU: a hypothesis of L tokens has L − n + 1 n-grams, at most all matching; chrF matches
        // at most the smaller side's n-grams.
        let bleu = try BLEUEvaluator(options: OptionValues(specs: BLEUEvaluator.options, given: [:]))
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hypotheses = directory.appendingPathComponent("hyp.txt"), references = directory.appendingPathComponent("ref.txt")
        try "a b c d e f g h i\nthe cat sat\n".write(to: hypotheses, atomically: true, encoding: .utf8)
        try "a b c d e f g h\nthe cat sat down\n".write(to: references, atomically: true, encoding: .utf8)
        let corpus = EvaluationContext(evaluationID: "e", dataset: .parallel(hypotheses: hypotheses, references: [references]))
        for stats in [[9, 8, 70, 5, 3, 1, 9, 8, 7, 6], [9, 8, 5, 4, 3, 1, 9, 8, 7, 7]] {
            let row = ItemRow(id: "1", values: ["stats": .array(stats.map { .number(Double($0)) })])
            #expect(throws: EvaluatorError.self, "\(stats)") { try bleu.merge(items: [row], signature: "s", in: context) }
        }
        let chrf = try ChrFEvaluator(options: OptionValues(specs: ChrFEvaluator.options, given: [:]))
        var counts = [Double](repeating: 4, count: 18)
        counts[2] = 5
        #expect(throws: EvaluatorError.self) { try chrf.merge(items: [ItemRow(id: "1", values: ["stats": .array(counts.map { .number($0) })])], signature: "s", in: context) }
        // Rows as a run wrote them merge; edited ones — counts that are plausible but not those of
        // their texts (a BLEU of 97.95 had merged from them), rows out of order, a changed text —
        // are refused (found by probing shard files, 2026-12-07).
        for evaluator in [bleu, chrf] as [any Evaluator] {
            let rows = try await evaluator.evaluate(in: corpus).items
            try evaluator.checkShardRows(rows, in: corpus)
            var forged = rows
            forged[0].values["stats"] = rows[1].values["stats"]
            var text = rows
            text[1].values["hypothesis"] = .string("the cat sat down")
            for (edited, message) in [(forged, "are not those of its texts"), (Array(rows.reversed()), "it is row 1, which should be item '1'"),
                                      (text, "its hypothesis is not the dataset's")] {
                #expect { try evaluator.checkShardRows(edited, in: corpus) } throws: {
                    ($0 as? EvaluatorError)?.errorDescription?.contains(message) == true
                }
            }
        }

        let generation = try GenerationEvaluator(options: OptionValues(specs: GenerationEvaluator.options, given: [:]))
        let noReference: [String: JSONValue] = ["output": .string("a"), "references": .array([]), "tokens": .number(1)]
        #expect(throws: EvaluatorError.self) { try generation.merge(items: [ItemRow(id: "1", values: noReference)], signature: "s", in: context) }
        // In an unsharded run such a row came from the model or server, and the hint says so, not
        // "run that shard again" (found by probing, 2026-12-07).
        let absurd: [String: JSONValue] = ["output": .string("a"), "references": .array([.string("a")]), "tokens": .number(1e20)]
        #expect { try generation.finish(items: [ItemRow(id: "1", values: absurd)], signature: "s", in: context) } throws: {
            ($0 as? EvaluatorError)?.recoverySuggestion?.hasPrefix("this run computed the row from its inputs") == true
        }
        let tooMany: [String: JSONValue] = ["output": .string("a"), "references": .array([.string("a")]), "tokens": .number(1e12)]
        #expect(throws: EvaluatorError.self) { try generation.merge(items: [ItemRow(id: "1", values: tooMany)], signature: "s", in: context) }
    }
}
