import AssayCheckpoint
import AssayCore
import AssayMetrics
import AssayTensor
import AssayModels
import Foundation

/// Quantization drift of a candidate model against a reference (`assay drift`, the `quant-drift`
/// evaluator): both models score the same chunks of tokens as `llama-perplexity` cuts them
/// (`context` tokens, BOS first when the vocabulary adds it, the second half of each chunk
/// scored), and ``DriftAccumulator`` collects what `llama-perplexity --kl-divergence` reports.
/// Logits are compared chunk by chunk — no logits file; memory is two chunks of logits.
public enum DriftRunner {
    /// The statistics, per-chunk summaries and the settings.
    public struct Result: Sendable {
        public var accumulator: DriftAccumulator
        /// Each chunk evaluated: its index among all the text's chunks (0-based) and its own
        /// accumulator, which ``accumulator`` merged in this order (a shard's rows).
        public var parts: [(index: Int, accumulator: DriftAccumulator)]
        /// Each chunk's own statistics (for the per-chunk table).
        public var perChunk: [DriftSummary] { parts.compactMap(\.accumulator.summary) }
        /// Chunks evaluated.
        public var chunks: Int { parts.count }
        /// Chunks of the whole text (after `maxChunks`), sharded or not: what a signature names.
        public var plannedChunks: Int
        public var context: Int
        public var complete: Bool
        public var evalSeconds: Double

        /// Tokens scored in each chunk: its second half but the last.
        public var tokensPerChunk: Int { context - 1 - context / 2 }
    }

    /// Runs both models over the chunks of `tokens` that `select` picks from their count (all,
    /// or a shard's block: `EvaluationContext.itemRange(of:)`), taking a chunk `cache` kept (a
    /// resumed run) instead of running it and keeping each one it runs; `progress(done, total)`
    /// after each chunk. Stops after the current chunk when the task is cancelled (`complete == false`).
    /// - Throws: ``ProcedureError/nonFiniteScores(model:at:)`` at the first chunk of NaNs.
    public static func run(reference: InProcessBackend, candidate: InProcessBackend, tokens: [Int], context: Int, maxChunks: Int?, bos: Int?,
                           select: (Int) -> Range<Int> = { 0..<$0 }, cache: PartCache<DriftAccumulator>? = nil,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> Result {
        precondition(context >= 4, "context too small")
        var planned = tokens.count / context
        if let maxChunks, maxChunks > 0 { planned = min(planned, maxChunks) }
        let selected = select(planned), total = selected.count
        let first = context / 2, vocabulary = reference.model.configuration.vocabulary
        var accumulator = DriftAccumulator(), parts: [(index: Int, accumulator: DriftAccumulator)] = []
        let started = Date()
        var done = 0
        for c in selected {
            if Task.isCancelled { break }
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if let bos { chunk[0] = bos }
            var local = DriftAccumulator()
            if let kept = cache?.lookup(chunk) {
                local = kept
            } else {
                let base = reference.logits(chunk, rows: first..<(context - 1))
                let other = candidate.logits(chunk, rows: first..<(context - 1))
                base.withUnsafeBufferPointer { b in
                    other.withUnsafeBufferPointer { o in
                        for j in first..<(context - 1) {
                            let row = (j - first) * vocabulary
                            add(&local, base: UnsafeBufferPointer(rebasing: b[row..<(row + vocabulary)]),
                                candidate: UnsafeBufferPointer(rebasing: o[row..<(row + vocabulary)]), token: chunk[j + 1])
                        }
                    }
                }
                try checkFinite(local, chunk: c, of: planned, reference: reference.source, candidate: candidate.source)
                cache?.record(chunk, local)
            }
            accumulator.merge(local)
            parts.append((c, local))
            done += 1
            progress(done, total)
        }
        return Result(accumulator: accumulator, parts: parts, plannedChunks: planned, context: context,
                      complete: done == total, evalSeconds: Date().timeIntervalSince(started))
    }

    /// Adds one position from the two rows of logits: log-softmax normalisers in double (the
    /// exponentials in 8-lane single precision), KL(base ‖ candidate) = Σ p_base (b − c) − (Z_b − Z_c)
    /// over the whole vocabulary, and the top tokens (ties to the lower id, as llama.cpp).
    static func add(_ accumulator: inout DriftAccumulator, base: UnsafeBufferPointer<Float>, candidate: UnsafeBufferPointer<Float>,
                    token: Int) {
        let (baseMax, baseTop) = maximum(base), (candidateMax, candidateTop) = maximum(candidate)
        let n = base.count
        var baseSum = 0.0, candidateSum = 0.0, weighted = 0.0
        var i = 0
        let pb = UnsafeRawPointer(base.baseAddress!), pc = UnsafeRawPointer(candidate.baseAddress!)
        while i + 8 <= n {
            let b = pb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            let c = pc.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            let eb = VectorMath.exp(b - baseMax)
            baseSum += Double(eb.sum())
            candidateSum += Double(VectorMath.exp(c - candidateMax).sum())
            weighted += Double((eb * (b - c)).sum())
            i += 8
        }
        while i < n {
            let eb = exp(Double(base[i] - baseMax))
            baseSum += eb
            candidateSum += exp(Double(candidate[i] - candidateMax))
            weighted += eb * Double(base[i] - candidate[i])
            i += 1
        }
        let baseLogZ = Double(baseMax) + log(baseSum), candidateLogZ = Double(candidateMax) + log(candidateSum)
        let kld = weighted / baseSum - (baseLogZ - candidateLogZ)
        accumulator.add(nll: candidateLogZ - Double(candidate[token]), nllBase: baseLogZ - Double(base[token]), kld: max(0, kld),
                        sameTop: baseTop == candidateTop)
    }

    static func maximum(_ row: UnsafeBufferPointer<Float>) -> (Float, Int) {
        var best = row[0], index = 0
        for i in 1..<row.count where row[i] > best {
            best = row[i]
            index = i
        }
        return (best, index)
    }

    /// Refuses a result of NaNs, naming the model whose log-probabilities they are (`drift` had
    /// printed `Mean PPL(Q) : nan` with exit 0).
    static func checkFinite(_ result: Result, reference: String, candidate: String) throws {
        guard let summary = result.accumulator.summary else { return }
        if summary.pplBase.isNaN { throw ProcedureError.nonFiniteScores(model: reference) }
        if summary.pplCandidate.isNaN || summary.meanKLD.isNaN { throw ProcedureError.nonFiniteScores(model: candidate) }
    }

    /// The same for one chunk (index `chunk` of `planned`) as it is scored: a broken model is
    /// refused at its first chunk of NaNs, not after the whole text, and before the chunk is kept
    /// for `--resume`.
    static func checkFinite(_ local: DriftAccumulator, chunk: Int, of planned: Int, reference: String, candidate: String) throws {
        guard let summary = local.summary else { return }
        let at = "chunk \(chunk + 1) of \(planned)"
        if summary.pplBase.isNaN { throw ProcedureError.nonFiniteScores(model: reference, at: at) }
        if summary.pplCandidate.isNaN || summary.meanKLD.isNaN { throw ProcedureError.nonFiniteScores(model: candidate, at: at) }
    }

    /// What `assay drift` and the `quant-drift` evaluator run: the text read and tokenized by both
    /// models' tokenizers, which must agree, then ``run(reference:candidate:tokens:context:maxChunks:bos:select:cache:progress:)``.
    /// The callers load the models (`InProcessBackend(modelAt:numerics:)` and
    /// ``InProcessBackend/candidate(file:quantization:numerics:)``).
    /// - Throws: ``ProcedureError`` (different vocabularies or tokenizations, text shorter than two
    ///   chunks, an unreadable text, NaN log-probabilities), ``ModelError`` (context beyond the trained length).
    public static func run(reference: InProcessBackend, candidate: InProcessBackend, textAt textURL: URL, context: Int, maxChunks: Int,
                           select: (Int) -> Range<Int> = { 0..<$0 }, cache: PartCache<DriftAccumulator>? = nil,
                           progress: @escaping (Int, Int) -> Void = { _, _ in }) async throws -> (Result, signature: String) {
        let text = PerplexityRunner.droppingOneNewline(try PerplexityRunner.readText(textURL))
        try reference.model.checkContext(context, path: reference.source)
        let tokens = try await reference.tokenize(text, addSpecial: true, parseSpecial: false)
        if candidate.source != reference.source {
            // Both tokenizers must give the same ids (a copy of the reference quantized in memory shares its tokenizer).
            let other = try await candidate.tokenize(text, addSpecial: true, parseSpecial: false)
            if let index = firstDifference(tokens, other) {
                func piece(_ list: [Int]) -> String { index < list.count ? "\(list[index]) '\(reference.tokenizer.decode([list[index]]))'" : "end of text" }
                throw ProcedureError.differentTokenizations(reference: reference.source, candidate: candidate.source, position: index,
                                                            referenceToken: piece(tokens), candidateToken: piece(other))
            }
        }
        guard candidate.model.configuration.vocabulary == reference.model.configuration.vocabulary else {
            throw ProcedureError.differentTokenizations(reference: reference.source, candidate: candidate.source, position: -1,
                                                        referenceToken: "\(reference.model.configuration.vocabulary) tokens",
                                                        candidateToken: "\(candidate.model.configuration.vocabulary) tokens")
        }
        guard tokens.count / 2 >= context else { throw ProcedureError.textTooShort(tokens: tokens.count, context: context) }
        let result = try run(reference: reference, candidate: candidate, tokens: tokens, context: context, maxChunks: maxChunks,
                         bos: reference.tokenizer.addedBOS, select: select, cache: cache) { done, total in progress(done * context, total * context) }
        try checkFinite(result, reference: reference.source, candidate: candidate.source)
        var parts = signatureCounts(result) + [("reference", reference.label), ("candidate", candidate.label), ("kld", "full-vocab-f64")]
        if reference.model.numerics != .exact { parts.append(("numerics", reference.model.numerics.rawValue)) }
        if reference.model.numerics == .exact, reference.model.cacheType == .f16 { parts.append(("kv", "f16")) }
        if !result.complete { parts.append(("partial", "yes")) }
        return (result, Signature(parts).description)
    }

    /// Drift from the two models' top-k log-probabilities (`quant-drift` with a served model, or
    /// `top_k:`): the same chunks as ``run(reference:candidate:textAt:context:maxChunks:select:cache:progress:)``,
    /// scored through ``LanguageModelBackend/scoreTokens(_:from:options:)`` — a server's prompt
    /// log-probabilities — with the correct token's log-probability exact under both models (so
    /// perplexities, their ratio, Δp and the correlation are exact), the top tokens compared for
    /// agreement, and the KLD a lower bound (``DriftAccumulator/topKDivergence(base:candidate:)``)
    /// whose missing mass the accumulator reports. The signature says `kld:top-K-lower-bound`.
    /// - Throws: ``ProcedureError`` (different tokenizations or BOS, a short text), ``ModelError``
    ///   (a server that cannot score, context beyond the trained length).
    public static func runTopK(reference: any LanguageModelBackend, candidate: any LanguageModelBackend,
                               labels: (reference: String, candidate: String), textAt textURL: URL, context: Int, maxChunks: Int, topK: Int,
                               select: (Int) -> Range<Int> = { 0..<$0 }, cache: PartCache<DriftAccumulator>? = nil,
                               progress: @escaping (Int, Int) -> Void = { _, _ in }) async throws -> (Result, signature: String) {
        precondition(context >= 4 && topK >= 1, "context or k too small")
        let text = PerplexityRunner.droppingOneNewline(try PerplexityRunner.readText(textURL))
        let facts = try await reference.scoringFacts(), otherFacts = try await candidate.scoringFacts()
        try facts.check(context: context, model: reference.name)
        try otherFacts.check(context: context, model: candidate.name)
        let tokens = try await reference.tokenize(text, addSpecial: true, parseSpecial: false)
        let other = try await candidate.tokenize(text, addSpecial: true, parseSpecial: false)
        if let index = firstDifference(tokens, other) {
            func piece(_ list: [Int]) -> String { index < list.count ? "\(list[index])" : "end of text" }
            throw ProcedureError.differentTokenizations(reference: labels.reference, candidate: labels.candidate, position: index,
                                                        referenceToken: piece(tokens), candidateToken: piece(other))
        }
        guard facts.addedBOS == otherFacts.addedBOS else {
            throw ProcedureError.differentTokenizations(reference: labels.reference, candidate: labels.candidate, position: 0,
                                                        referenceToken: "BOS \(facts.addedBOS.map(String.init) ?? "none")",
                                                        candidateToken: "BOS \(otherFacts.addedBOS.map(String.init) ?? "none")")
        }
        guard tokens.count / 2 >= context else { throw ProcedureError.textTooShort(tokens: tokens.count, context: context) }
        let result = try await runTopK(reference: reference, candidate: candidate, labels: labels, tokens: tokens, context: context,
                                       maxChunks: maxChunks, bos: facts.addedBOS, topK: topK, select: select, cache: cache, progress: progress)
        try checkFinite(result, reference: labels.reference, candidate: labels.candidate)
        var parts = signatureCounts(result) + [("reference", labels.reference), ("candidate", labels.candidate), ("kld", "top-\(topK)-lower-bound")]
        if !result.complete { parts.append(("partial", "yes")) }
        return (result, Signature(parts).description)
    }

    /// The chunks of `tokens` scored by both models' top-k log-probabilities (see
    /// ``runTopK(reference:candidate:labels:textAt:context:maxChunks:topK:select:cache:progress:)``); `bos`
    /// replaces each chunk's first token; `select` picks chunks as in
    /// ``run(reference:candidate:tokens:context:maxChunks:bos:select:cache:progress:)``.
    /// `progress(tokens done, tokens total)` after each chunk.
    public static func runTopK(reference: any LanguageModelBackend, candidate: any LanguageModelBackend,
                               labels: (reference: String, candidate: String), tokens: [Int], context: Int, maxChunks: Int, bos: Int?, topK: Int,
                               select: (Int) -> Range<Int> = { 0..<$0 }, cache: PartCache<DriftAccumulator>? = nil,
                               progress: @escaping (Int, Int) -> Void = { _, _ in }) async throws -> Result {
        var planned = tokens.count / context
        if maxChunks > 0 { planned = min(planned, maxChunks) }
        let selected = select(planned), total = selected.count
        let first = context / 2, options = ScoreOptions(topK: topK)
        var accumulator = DriftAccumulator(), parts: [(index: Int, accumulator: DriftAccumulator)] = []
        let started = Date()
        var done = 0
        for c in selected {
            if Task.isCancelled { break }
            var chunk = Array(tokens[(c * context)..<((c + 1) * context)])
            if let bos { chunk[0] = bos }
            var local = DriftAccumulator()
            if let kept = cache?.lookup(chunk) {
                local = kept
            } else {
                guard let base = try await unlessCancelled({ try await reference.scoreTokens(chunk, from: first, options: options) }),
                      let scored = try await unlessCancelled({ try await candidate.scoreTokens(chunk, from: first, options: options) }) else { break }
                let positions = context - 1 - first
                guard base.logProbabilities.count == positions, scored.logProbabilities.count == positions,
                      let baseTop = base.top, let scoredTop = scored.top, baseTop.count == positions, scoredTop.count == positions else {
                    throw ModelError.serverProtocol(url: labels.reference + ", " + labels.candidate,
                                                    message: "chunk \(c + 1): scores for \(positions) positions were asked, other counts came back")
                }
                for j in 0..<positions {
                    let (kld, outside) = DriftAccumulator.topKDivergence(base: baseTop[j], candidate: scoredTop[j])
                    // A top token without an id (a server's text that names no single token) agrees with nothing.
                    let sameTop = baseTop[j].first.map { $0.token } == scoredTop[j].first.map { $0.token } && (baseTop[j].first?.token ?? -1) >= 0
                    local.add(nll: -scored.logProbabilities[j], nllBase: -base.logProbabilities[j], kld: kld, sameTop: sameTop, outside: outside)
                }
                try checkFinite(local, chunk: c, of: planned, reference: labels.reference, candidate: labels.candidate)
                cache?.record(chunk, local)
            }
            accumulator.merge(local)
            parts.append((c, local))
            done += 1
            progress(done * context, total * context)
        }
        return Result(accumulator: accumulator, parts: parts, plannedChunks: planned, context: context,
                      complete: done == total, evalSeconds: Date().timeIntervalSince(started))
    }

    /// The signature's counts: the whole text's chunks and scored tokens once every selected chunk
    /// ran (the same in every shard and unsharded), what was done when interrupted.
    static func signatureCounts(_ result: Result) -> [(String, String)] {
        let chunks = result.complete ? result.plannedChunks : result.chunks
        let tokens = result.complete ? result.plannedChunks * result.tokensPerChunk : result.accumulator.count
        return [("ctx", String(result.context)), ("chunks", String(chunks)), ("score", "second-half"), ("tokens", String(tokens))]
    }

    /// The first position where two tokenizations differ (the shorter one's end when one is a
    /// prefix of the other); nil when they are the same.
    static func firstDifference(_ a: [Int], _ b: [Int]) -> Int? {
        (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? (a.count != b.count ? min(a.count, b.count) : nil)
    }
}
