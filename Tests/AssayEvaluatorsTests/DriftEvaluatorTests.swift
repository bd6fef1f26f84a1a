import AssayEvaluators
import AssayTestSupport
import Foundation
import Testing

/// The quant-drift and encoder-drift evaluators on the real test models.
struct DriftEvaluatorTests {
    static let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
    static let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")

    @Test func quantDriftWhatIfQuantization() async throws {
        guard let model = TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else { return }
        let evaluator = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options,
                                                                      given: ["quantize": .string("q8_0"), "context": .integer(64), "chunks": .integer(3)]))
        let result = try await evaluator.evaluate(in: EvaluationContext(evaluationID: "q8", dataset: .text(path: Self.notes),
                                                                        model: .file(model), reference: .file(model)))
        let kld = try #require(result.metric("mean_kld")?.value), same = try #require(result.metric("same_top_p")?.value)
        #expect(kld > 0 && kld < 0.05 && same > 0.85 && result.metric("ppl_ratio")?.stderr != nil)
        #expect(result.items.count == 3 && result.items[0].id == "chunk-1")
        #expect(result.artifacts.first?.name == "kld.svg" && result.artifacts.first?.contents.contains("<rect") == true)
        #expect(result.signature.contains("candidate:reference+q8_0") && result.signature.contains("ctx:64|chunks:3"))

        let plain = try QuantDriftEvaluator(options: OptionValues(specs: QuantDriftEvaluator.options, given: [:]))
        await #expect(throws: EvaluatorError.self) {
            try await plain.evaluate(in: EvaluationContext(evaluationID: "x", dataset: .text(path: Self.notes), model: .file(model), reference: .file(model)))
        }
    }

    @Test func encoderDriftIsSmallForQ8AndTested() async throws {
        guard let encoder = TestEnvironment.model("all-minilm-l6-v2") else { return }
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
