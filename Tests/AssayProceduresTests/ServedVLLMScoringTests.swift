import AssayModels
import AssayProcedures
import AssayTestSupport
import Foundation
import Testing

/// Top-k scoring through a real vLLM (its CPU build, f32, scripts/setup-vllm.sh), which names the
/// top tokens by id when asked (`return_tokens_as_token_ids`): drift between the served model and
/// the in-process engine on the very weights vLLM serves is next to nothing, and the top 20 are the
/// engine's, position by position — what a one-position shift or a wrong id would break.
struct ServedVLLMScoringTests {
    @Test func servedTopKIsTheEnginesOnTheSameWeights() async throws {
        let (endpoint, name, weights) = try TestEnvironment.vllmServer()
        let wiki = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("text.txt")
        try Data(contentsOf: wiki).prefix(3000).write(to: text)

        let served = OpenAIBackend(server: OpenAIServer(baseURL: endpoint, model: name))
        let local = try InProcessBackend(modelAt: weights)
        let facts = try await served.scoringFacts()
        // vLLM reports the context it serves (--max-model-len 2048; one position for the generated token).
        #expect(facts.addedBOS == nil && facts.trainedContext == 2047)

        // The same tokens from both tokenizers (checked by the run) and the same BOS (none).
        let (result, signature) = try await DriftRunner.runTopK(reference: served, candidate: local, labels: ("vllm", "engine"), textAt: text,
                                                                context: 128, maxChunks: 2, topK: 20)
        let summary = try #require(result.accumulator.summary)
        print("vLLM against the engine: top-20 KLD \(summary.meanKLD), same top \(summary.sameTop), ppl ratio \(summary.pplRatio)")
        #expect(summary.tokens == 126 && signature.contains("kld:top-20-lower-bound"))
        #expect(summary.meanKLD < 1e-4 && summary.sameTop > 0.98 && abs(summary.pplRatio - 1) < 1e-3)

        var chunk = try await served.tokenize(String(decoding: try Data(contentsOf: text), as: UTF8.self), addSpecial: true, parseSpecial: false)
        chunk = Array(chunk.prefix(128))
        let servedTop = try #require(try await served.scoreTokens(chunk, from: 64, options: ScoreOptions(topK: 20)).top)
        let localTop = try #require(try await local.scoreTokens(chunk, from: 64, options: ScoreOptions(topK: 20)).top)
        #expect(servedTop.count == 63 && localTop.count == 63)
        var shared = 0, largest = 0.0
        for (a, b) in zip(servedTop, localTop) {
            let engine = Dictionary(b.map { ($0.token, $0.logProbability) }, uniquingKeysWith: { x, _ in x })
            for entry in a.prefix(20) {
                guard let value = engine[entry.token] else { continue }
                shared += 1
                largest = max(largest, abs(value - entry.logProbability))
            }
        }
        // Ties at the 20th place may swap; the values are f32 sums in another order.
        #expect(shared >= 63 * 20 - 10 && largest < 1e-3, "\(shared) of \(63 * 20) shared, largest difference \(largest)")
    }
}
