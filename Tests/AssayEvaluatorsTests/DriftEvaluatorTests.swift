import AssayEvaluators
import AssayTestSupport
import Foundation
import Testing

/// The quant-drift and encoder-drift evaluators on the real test models.
struct DriftEvaluatorTests {
    static let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
    static let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")

    @Test func quantDriftWhatIfQuantization() async throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let evaluator = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [
            "quantize": .string("q8_0"), "context": .integer(64), "chunks": .integer(3),
            "throughput_reference": .string("tp-full"), "throughput_candidate": .string("tp-q8")]))
        #expect(QuantDriftEvaluator.dependencies(OptionValues(["throughput_reference": .string("tp-full"), "throughput_candidate": .string("tp-q8")]))
            == ["tp-full", "tp-q8"])
        func speed(_ pp: Double) -> EvaluationResult {
            EvaluationResult(metrics: [MetricValue(name: "pp_tokens_per_second", value: pp, stderr: pp / 50, higherIsBetter: true)], signature: "s")
        }
        let context = EvaluationContext(evaluationID: "q8", dataset: .text(path: Self.notes), model: .file(model), reference: .file(model),
                                        earlierResults: ["tp-full": speed(100), "tp-q8": speed(150)])
        let result = try await evaluator.evaluate(in: context)
        #expect(result.metric("pp_speedup")?.value == 1.5 && result.metric("tg_speedup")?.value == nil)
        #expect(result.metric("tg_speedup")?.note?.contains("'tp-full' gives no tg_tokens_per_second") == true)
        // The interval from both means' relative standard errors (2 % each) on the log scale.
        let speedup = try #require(result.metric("pp_speedup"))
        let spread = 1.96 * (2 * 0.02 * 0.02).squareRoot()
        #expect(abs(speedup.ciLow! - 1.5 * exp(-spread)) < 1e-12 && abs(speedup.ciHigh! - 1.5 * exp(spread)) < 1e-12)
        #expect(QuantDriftEvaluator.metrics.first { $0.name == "tg_speedup" }?.judgedOnInterval == true)
        // Q8_0 weights (the file llama-quantize would write) against the Q4_1 file: larger.
        let size = try #require(result.metric("size_ratio")?.value)
        #expect(size > 1.4 && size < 1.7)
        let kld = try #require(result.metric("mean_kld")?.value), same = try #require(result.metric("same_top_p")?.value)
        #expect(kld > 0 && kld < 0.05 && same > 0.85 && result.metric("ppl_ratio")?.stderr != nil)
        let ratio = try #require(result.metric("ppl_ratio")), ln = try #require(result.metric("ln_ppl_ratio"))
        #expect(abs(ratio.ciLow! - exp(ln.ciLow!)) < 1e-12 && abs(ratio.ciHigh! - exp(ln.ciHigh!)) < 1e-12 && ratio.ciLow! < ratio.value!)
        #expect(result.items.count == 3 && result.items[0].id == "chunk-1" && result.itemsInReport)
        #expect(result.artifacts.first?.name == "kld.svg")
        guard case let .kldHistogram(_, kld, mean, _)? = result.artifacts.first?.chart else { Issue.record("no KLD histogram"); return }
        #expect(kld.count == 3 * 31 && abs(mean - kld.reduce(0) { $0 + Double($1) } / Double(kld.count)) < 1e-6)
        #expect(result.signature.contains("candidate:reference+q8_0") && result.signature.contains("ctx:64|chunks:3"))
        // `assay merge` recomputes all of it from the rows as a shard file holds them (JSON), and
        // refuses rows that lost their statistics.
        let written = try JSONDecoder().decode([ItemRow].self, from: JSONEncoder().encode(result.items))
        let merged = try evaluator.merge(items: written, signature: result.signature, in: context)
        #expect(merged.metrics == result.metrics && merged.artifacts == result.artifacts && merged.itemsInReport)
        var broken = result.items
        broken[1].values[QuantDriftEvaluator.statisticsKey] = nil
        #expect(throws: EvaluatorError.self) { try evaluator.merge(items: broken, signature: result.signature, in: context) }
        broken = result.items
        broken[1].id = "chunk-9"  // not its place among the chunks
        #expect(throws: EvaluatorError.self) { try evaluator.merge(items: broken, signature: result.signature, in: context) }
        broken = result.items
        if case var .object(statistics)? = broken[2].values[QuantDriftEvaluator.statisticsKey] {
            statistics["kld"] = .array([.number(0.5)])
            broken[2].values[QuantDriftEvaluator.statisticsKey] = .object(statistics)
        }
        #expect(throws: EvaluatorError.self) { try evaluator.merge(items: broken, signature: result.signature, in: context) }

        // Two throughput evaluations of different tests give no speed-up, and say why (pp16
        // against pp64 had given one and passed its gate); one evaluation named twice is refused.
        func test(_ name: String, _ pp: Double) -> EvaluationResult {
            EvaluationResult(metrics: [MetricValue(name: "pp_tokens_per_second", value: pp, higherIsBetter: true, note: name)],
                             signature: "tests:\(name)|threads:2|reps:5")
        }
        let one = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [
            "quantize": .string("q8_0"), "context": .integer(64), "chunks": .integer(1),
            "throughput_reference": .string("tp-full"), "throughput_candidate": .string("tp-q8")]))
        let mismatched = try await one.evaluate(in: EvaluationContext(
            evaluationID: "q8", dataset: .text(path: Self.notes), model: .file(model), reference: .file(model),
            earlierResults: ["tp-full": test("pp16", 100), "tp-q8": test("pp64", 150)]))
        #expect(mismatched.metric("pp_speedup")?.value == nil)
        #expect(mismatched.metric("pp_speedup")?.note?.contains("measured different tests (tests:pp16 threads:2 against tests:pp64 threads:2)") == true)
        #expect(throws: EvaluatorError.self) {
            try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [
                "throughput_reference": .string("tp"), "throughput_candidate": .string("tp")]))
        }

        let plain = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [:]))
        await #expect(throws: EvaluatorError.self) {
            try await plain.evaluate(in: EvaluationContext(evaluationID: "x", dataset: .text(path: Self.notes), model: .file(model), reference: .file(model)))
        }
    }

    /// `top_k` compares the two models' top-k lists, as a served model must: the KLD a lower
    /// bound of the full-vocabulary value on the same chunks, the exact statistics unchanged, the
    /// unseen mass reported and k named in the signature; an unset key variable of a served model
    /// fails before any request (no server listens here).
    @Test func quantDriftFromTopK() async throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        func run(_ options: [String: OptionValue]) async throws -> EvaluationResult {
            let evaluator = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options,
                                                                         given: ["quantize": .string("q4_0"), "context": .integer(64), "chunks": .integer(2)]
                                                                             .merging(options) { _, new in new }))
            return try await evaluator.evaluate(in: EvaluationContext(evaluationID: "d", dataset: .text(path: Self.notes),
                                                                      model: .file(model), reference: .file(model)))
        }
        let full = try await run([:]), top = try await run(["top_k": .integer(10)])
        let bound = try #require(top.metric("mean_kld")?.value), exact = try #require(full.metric("mean_kld")?.value)
        #expect(bound > 0 && bound <= exact, "\(bound) vs \(exact)")
        for name in ["ppl_ratio", "same_top_p", "rms_dp"] {
            #expect(abs((top.metric(name)?.value ?? .nan) - (full.metric(name)?.value ?? -1)) < 1e-6, "\(name)")
        }
        let outside = try #require(top.metric("outside_top_k")?.value)
        #expect(outside > 0 && outside < 1 && full.metric("outside_top_k") == nil)
        #expect(top.signature.contains("kld:top-10-lower-bound") && (top.metric("mean_kld")?.note ?? "").contains("lower bound"))

        let evaluator = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [:]))
        let reference = ModelSpec.endpoint(URL(string: "http://127.0.0.1:9/v1")!, model: "full")
        let served = ModelSpec.endpoint(URL(string: "http://127.0.0.1:9/v1")!, model: "q4", apiKeyVariable: "ASSAY_TEST_UNSET_KEY_VARIABLE")
        do {
            _ = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "d", dataset: .text(path: Self.notes), model: served, reference: reference))
            Issue.record("a served model with an unset key variable ran")
        } catch let EvaluatorError.invalidOption(name, message) {
            #expect(name == "api_key_env" && message.contains("ASSAY_TEST_UNSET_KEY_VARIABLE is not set"), "\(message)")
        }
    }

    @Test func encoderDriftIsSmallForQ8AndTested() async throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let dataset = DatasetSpec.parallel(hypotheses: Self.mt.appendingPathComponent("system-b.txt"),
                                           references: [Self.mt.appendingPathComponent("reference.txt")])
        let evaluator = try EncoderDriftEvaluator(options: OptionValues(specs: EncoderDriftEvaluator.options,
                                                                        given: ["quantize": .string("q8_0"), "resamples": .integer(200)]))
        let result = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "e", dataset: dataset, model: .file(encoder)))
        let cosine = try #require(result.metric("cosine_mean")?.value), minimum = try #require(result.metric("cosine_min")?.value)
        #expect(cosine > 0.999 && minimum > 0.99 && minimum <= cosine)
        let delta = try #require(result.metric("f1_delta"))
        #expect(abs(delta.value!) < 0.01 && delta.ciLow! <= delta.value! && delta.value! <= delta.ciHigh!)
        #expect(["no significant difference", "significantly worse", "significantly better"].contains(delta.note ?? ""))
        #expect(result.items.count == 20 && result.signature.contains("vs:q8_0"))
    }
}

/// `paired-delta` over two earlier evaluations' per-item values.
struct PairedDeltaEvaluatorTests {
    func result(_ values: [Double], name: String = "f1") -> EvaluationResult {
        EvaluationResult(metrics: [], items: values.enumerated().map { ItemRow(id: "item-\($0.offset)", values: [name: .number($0.element)]) },
                         signature: "s")
    }

    @Test func joinsItemsAndTestsTheChange() async throws {
        let reference = (0..<60).map { 0.8 + Double($0 % 7) / 100 }
        let candidate = reference.enumerated().map { $0.element - ($0.offset % 3 == 0 ? 0.02 : 0.01) }
        let evaluator = try PairedDeltaEvaluator(options: OptionValues(specs: PairedDeltaEvaluator.options,
                                                                       given: ["reference": .string("full.f1"), "candidate": .string("q4.f1"),
                                                                               "resamples": .integer(300)]))
        #expect(PairedDeltaEvaluator.dependencies(OptionValues(["reference": .string("full.f1"), "candidate": .string("q4.f1")])) == ["full", "q4"])
        var shorter = result(candidate)
        shorter.items.removeLast(10)   // only joined ids count
        let out = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "d", earlierResults: ["full": result(reference), "q4": shorter]))
        #expect(out.metric("items")?.value == 50)
        let delta = try #require(out.metric("delta"))
        let expected = (0..<50).map { candidate[$0] - reference[$0] }.reduce(0, +) / 50
        #expect(abs(delta.value! - expected) < 1e-12 && delta.note == "significantly worse" && delta.ciHigh! < 0)
        #expect(out.metric("p_value")!.value! < 0.01 && out.items.count == 50)

        let wrongName = try PairedDeltaEvaluator(options: OptionValues(specs: PairedDeltaEvaluator.options,
                                                                       given: ["reference": .string("full.bleu"), "candidate": .string("q4.f1")]))
        await #expect(throws: EvaluatorError.self) {
            try await wrongName.evaluate(in: EvaluationContext(evaluationID: "d", earlierResults: ["full": self.result(reference), "q4": self.result(candidate)]))
        }
        #expect(throws: EvaluatorError.self) { try PairedDeltaEvaluator(options: OptionValues(specs: PairedDeltaEvaluator.options, given: ["reference": .string("nodot")])) }
    }
}

/// The generation evaluator on SmolLM2: completions scored per item, and the in-memory quantized model.
struct GenerationEvaluatorTests {
    @Test func generatesAndScores() async throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let prompts = directory.appendingPathComponent("p.txt")
        try "The committee approved the new budget on Tuesday evening.\nShe has been teaching music for twelve years.\n"
            .write(to: prompts, atomically: true, encoding: .utf8)
        let template = "<|im_start|>user\nRepeat this sentence exactly: {prompt}<|im_end|>\n<|im_start|>assistant\n"
        for quantize in ["none", "q8_0"] {
            let evaluator = try GenerationEvaluator(options: OptionValues(specs: GenerationEvaluator.options, given: [
                "template": .string(template), "max_tokens": .integer(16), "stop": .string("\n"), "quantize": .string(quantize)]))
            let result = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "g", dataset: .parallel(hypotheses: prompts, references: [prompts]),
                                                                            model: .file(model)))
            #expect(result.items.count == 2 && result.items.allSatisfy { $0.values["output"] != nil && $0.values["sentence_chrf"]?.number != nil })
            #expect((result.metric("chrf")?.value ?? 0) > 50 && (result.metric("tokens_generated")?.value ?? 0) > 0)
            #expect(result.signature.contains(quantize == "none" ? "model:SmolLM2-135M-Instruct.Q4_1.gguf|" : "+q8_0|"))
            // The stop string is named (escaped to one line); greedy decoding names no temperature or seed.
            #expect(result.signature.contains("|sampling:greedy|stop:%0A|") && !result.signature.contains("seed:"), "\(result.signature)")
        }
        // Sampled completions name their temperature and seed: two seeds give two signatures.
        let sampled = try GenerationEvaluator(options: OptionValues(specs: GenerationEvaluator.options, given: [
            "max_tokens": .integer(4), "temperature": .number(0.8), "seed": .integer(7), "stop": .string("a|b")]))
        let sampledResult = try await sampled.evaluate(in: EvaluationContext(evaluationID: "g", dataset: .parallel(hypotheses: prompts, references: [prompts]),
                                                                             model: .file(model)))
        #expect(sampledResult.signature.contains("|sampling:temperature|temp:0.8|top_k:0|top_p:1.0|seed:7|stop:a%7Cb|"), "\(sampledResult.signature)")
        #expect(throws: EvaluatorError.self) {
            try GenerationEvaluator(options: OptionValues(specs: GenerationEvaluator.options, given: ["template": .string("no placeholder")]))
        }
    }
}
