import AssayCheckpoint
import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// Token selection: llama.cpp's filter order (top-k → top-p → temperature) on hand-computed rows.
struct SamplerTests {
    func logits(_ probabilities: [Double]) -> ArraySlice<Float> { ArraySlice(probabilities.map { Float(log($0)) }) }

    @Test func greedyTakesTheFirstMaximum() {
        #expect(Sampler.argmax([1, 3, 3, 2]) == 1)
        #expect(Sampler.argmax(ArraySlice([9, 1, 5, 7])[1...]) == 2)  // offset within the slice, not the base array
        var sampler = Sampler(.greedy)
        #expect(sampler.next(logits([0.1, 0.6, 0.3])) == 1)
    }

    @Test func topKThenTopPOnTheKeptTokens() {
        let row = logits([0.5, 0.2, 0.2, 0.1])
        // top-p 0.6: 0.5 < 0.6, then 0.7 ≥ 0.6 → two tokens; ties keep the lower id first.
        #expect(Sampler.candidates(row, topK: 0, topP: 0.6).map(\.token) == [0, 1])
        // top-k 3 first, then top-p over the renormalised three (0.556, 0.222, 0.222): 0.95 needs all three.
        #expect(Sampler.candidates(row, topK: 3, topP: 0.95).map(\.token) == [0, 1, 2])
        let kept = Sampler.candidates(row, topK: 3, topP: 1)
        #expect(abs(kept[0].probability - 0.5 / 0.9) < 1e-6)
        #expect(Sampler.candidates(row, topK: 0, topP: 0.3).map(\.token) == [0])  // at least one
        #expect(Sampler.candidates(row, topK: 1, topP: 1).map(\.token) == [0])
    }

    /// Draw frequencies follow softmax(logits / T) over the kept tokens.
    @Test func temperatureShapesTheDistribution() {
        let row = logits([0.5, 0.3, 0.2])
        for (temperature, expected) in [(1.0, [0.5, 0.3, 0.2]), (0.5, [0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38])] {
            var sampler = Sampler(SamplingParameters(temperature: temperature, seed: 7))
            var counts = [0, 0, 0]
            for _ in 0..<20_000 { counts[sampler.next(row)] += 1 }
            for i in 0..<3 { #expect(abs(Double(counts[i]) / 20_000 - expected[i]) < 0.015, "T=\(temperature) token \(i): \(counts)") }
        }
        var topK = Sampler(SamplingParameters(temperature: 1, topK: 2, seed: 1))
        #expect((0..<2_000).allSatisfy { _ in topK.next(row) != 2 })
    }

    @Test func theSeedDeterminesTheDraws() {
        let row = logits([0.25, 0.25, 0.25, 0.25])
        func draws(_ seed: UInt64) -> [Int] {
            var sampler = Sampler(SamplingParameters(temperature: 1, seed: seed))
            return (0..<64).map { _ in sampler.next(row) }
        }
        #expect(draws(3) == draws(3))
        #expect(draws(3) != draws(4))
    }
}

/// The in-process ``LanguageModelBackend`` on SmolLM2.
struct InProcessBackendTests {
    @Test func scoresSamplingAndStops() async throws {
        let url = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let backend = try InProcessBackend(modelAt: url)
        let tokens = try await backend.tokenize("The quick brown fox jumps over the lazy dog.", addSpecial: true, parseSpecial: false)
        #expect(try await backend.detokenize(tokens) == "The quick brown fox jumps over the lazy dog.")
        let scores = try await backend.scoreTokens(tokens, from: 2, options: ScoreOptions(fullRows: true, topK: 3))
        #expect(scores.logProbabilities.count == tokens.count - 3)
        let rows = try #require(scores.rows), top = try #require(scores.top)
        for (i, row) in rows.enumerated() {
            #expect(abs(Double(row[tokens[i + 3]]) - scores.logProbabilities[i]) < 1e-5)
            #expect(abs(row.reduce(0.0) { $0 + exp(Double($1)) } - 1) < 1e-4)  // a log-softmax row
            #expect(top[i].count == 3 && top[i][0].logProbability >= top[i][1].logProbability)
            #expect(abs(top[i][0].logProbability - Double(row.max()!)) < 1e-5)
        }
        // top-k 1 at any temperature is greedy; a seed reproduces a sampled continuation.
        let greedy = try backend.generateNow("Once upon a time", parameters: GenerationParameters(maxTokens: 8))
        let topOne = try backend.generateNow("Once upon a time", parameters: GenerationParameters(maxTokens: 8, sampling: SamplingParameters(temperature: 1.5, topK: 1, seed: 9)))
        #expect(greedy.tokens == topOne.tokens && greedy.finishReason == .length && greedy.tokenSeconds.count == 7)
        let hot = SamplingParameters(temperature: 1.2, topP: 0.95, seed: 42)
        let a = try backend.generateNow("Once upon a time", parameters: GenerationParameters(maxTokens: 12, sampling: hot))
        let b = try backend.generateNow("Once upon a time", parameters: GenerationParameters(maxTokens: 12, sampling: hot))
        #expect(a.tokens == b.tokens && a.text == b.text)
        // A stop string that the greedy text contains ends generation and is cut off.
        let word = try #require(greedy.text.split(separator: " ").dropFirst().first.map(String.init))
        let stopped = try backend.generateNow("Once upon a time", parameters: GenerationParameters(maxTokens: 8, stop: [word]))
        #expect(stopped.finishReason == .stop && !stopped.text.contains(word) && greedy.text.hasPrefix(stopped.text))
    }
}
