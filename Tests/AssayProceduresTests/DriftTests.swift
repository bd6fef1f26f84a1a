import AssayCheckpoint
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayTensor
import AssayTestSupport
import Foundation
import Testing

/// Drift against llama.cpp (scripts/goldens/llama_kld_goldens.py): SmolLM2's F16 copy as base and the
/// Q4_0 that llama-quantize writes from it, 8 WikiText-2 chunks of 512. Assay's reference is the Q4_1
/// file itself (the F16 copy holds the same values) and its candidate the in-memory Q4_0 — the same
/// bytes llama-quantize writes (QuantizerGoldenTests).
struct DriftTests {
    struct Golden: Decodable {
        struct Stats: Decodable { var mean_kld: Double; var ln_ppl_ratio: Double; var same_top_p: Double; var tokens_scored: Int }
        var llama_cpp: Stats
    }

    @Test func matchesLlamaKLDivergence() async throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try TestEnvironment.sharedData("wikitext2/wiki.test.raw")
        let url = try #require(Bundle.module.url(forResource: "Golden/smollm2-kld-f16-q4_0", withExtension: "json"))
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url)).llama_cpp
        let reference = try InProcessBackend(modelAt: model)
        let (result, signature) = try await DriftRunner.run(reference: reference, candidate: try reference.candidate(file: nil, quantization: .q4_0, numerics: .exact),
                                                            textAt: text, context: 512, maxChunks: 8)
        let s = try #require(result.accumulator.summary)
        print("drift vs llama.cpp: KLD \(s.meanKLD) vs \(golden.mean_kld), ln ratio \(s.lnPPLRatio) vs \(golden.ln_ppl_ratio), same top \(s.sameTop) vs \(golden.same_top_p)")
        #expect(s.tokens == golden.tokens_scored && result.perChunk.count == 8)
        #expect(abs(s.meanKLD / golden.mean_kld - 1) < 0.05)
        #expect(abs(s.lnPPLRatio / golden.ln_ppl_ratio - 1) < 0.05)
        #expect(abs(s.sameTop - golden.same_top_p) < 0.01)
        #expect(signature.contains("candidate:reference+q4_0") && signature.contains("tokens:2040"))
    }

    /// A candidate quantized lazily (quant-drift's) quantizes nothing for a shard without chunks
    /// or a resumed run that has every chunk kept, and once it runs gives the eager copy's drift.
    @Test func lazyCandidatesQuantizeOnlyForChunksThatRun() async throws {
        let smol = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
        let reference = try InProcessBackend(modelAt: smol)
        let lazy = try reference.candidate(file: nil, quantization: .q8_0, numerics: .exact, lazily: true)
        #expect(lazy.model.quantizationPending)
        let (empty, emptySignature) = try await DriftRunner.run(reference: reference, candidate: lazy, textAt: text, context: 64, maxChunks: 2,
                                                                select: { _ in 0..<0 })
        #expect(empty.perChunk.isEmpty && lazy.model.quantizationPending && emptySignature.contains("candidate:reference+q8_0"))

        let eager = try reference.candidate(file: nil, quantization: .q8_0, numerics: .exact)
        let kept = KeptParts()
        let (expected, _) = try await DriftRunner.run(reference: reference, candidate: eager, textAt: text, context: 64, maxChunks: 2,
                                                      cache: PartCache(lookup: { kept.parts[$0] }, record: { kept.parts[$0] = $1 }))
        #expect(kept.parts.count == 2)
        let (resumed, _) = try await DriftRunner.run(reference: reference, candidate: lazy, textAt: text, context: 64, maxChunks: 2,
                                                     cache: PartCache(lookup: { kept.parts[$0] }, record: { _, _ in }))
        #expect(lazy.model.quantizationPending && resumed.accumulator == expected.accumulator)

        let (ran, _) = try await DriftRunner.run(reference: reference, candidate: lazy, textAt: text, context: 64, maxChunks: 2)
        #expect(!lazy.model.quantizationPending)
        // (Equal up to the last bits of sgemm, whose results follow OpenBLAS's thread count, which
        // other tests in this process change.)
        let a = try #require(ran.accumulator.summary), b = try #require(expected.accumulator.summary)
        #expect(a.tokens == b.tokens && a.sameTop == b.sameTop && abs(a.meanKLD - b.meanKLD) <= 1e-6 * b.meanKLD, "\(a) vs \(b)")
    }

    /// Chunk parts kept in memory for the test above.
    final class KeptParts: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [[Int]: DriftAccumulator] = [:]
        var parts: [[Int]: DriftAccumulator] {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    @Test func identicalModelsDoNotDriftAndTokenizersMustAgree() async throws {
        let smol = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
        let reference = try InProcessBackend(modelAt: smol)
        let same = try reference.candidate(file: smol, quantization: nil, numerics: .exact)
        let s = try #require(try await DriftRunner.run(reference: reference, candidate: same, textAt: text, context: 64, maxChunks: 2).0.accumulator.summary)
        // Zero up to the last bits of sgemm: OpenBLAS's results depend on its thread count, which
        // other tests in this process (BERTScore's workers) change while this one runs.
        // (Alone this gives 0; 1e-7 is still four orders below Q8_0's drift.)
        #expect(s.meanKLD < 1e-7 && s.sameTop == 1 && abs(s.lnPPLRatio) < 1e-6 && s.tokens == 2 * 31,
                "KLD \(s.meanKLD), same top \(s.sameTop), ln ratio \(s.lnPPLRatio)")

        // A copy whose tokenizer lacks the first 2,000 merges tokenizes differently: refused with the position.
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try GGUFFile(contentsOf: smol)
        var writer = GGUFWriter(metadata: file.metadata)
        writer.set("tokenizer.ggml.merges", .array(Array(file.value("tokenizer.ggml.merges")!.array!.dropFirst(2000))))
        writer.tensors = file.tensors.map { t in .init(name: t.name, dimensions: t.dimensions, type: t.type, bytes: file.withBytes(of: t) { Array($0) }) }
        let other = directory.appendingPathComponent("other.gguf")
        try writer.write(to: other)
        do {
            _ = try await DriftRunner.run(reference: reference, candidate: try reference.candidate(file: other, quantization: nil, numerics: .exact),
                                          textAt: text, context: 64, maxChunks: 1)
            Issue.record("different tokenizations must be refused")
        } catch let ProcedureError.differentTokenizations(_, candidate, position, referenceToken, candidateToken) {
            #expect(candidate == other.path && position >= 0 && referenceToken != candidateToken)
        }
    }
}
