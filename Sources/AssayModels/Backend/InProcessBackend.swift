import AssayCheckpoint
import AssayTensor
import Foundation

/// The in-process engine behind ``LanguageModelBackend``: a Llama-family GGUF model and its
/// tokenizer, run on OpenBLAS.
public struct InProcessBackend: LanguageModelBackend {
    public let model: LlamaModel
    public let tokenizer: CausalTokenizer
    public let name: String
    /// A short name for signatures: the file's name, `+q4_0` when quantized in memory.
    public let label: String
    /// Where the weights came from, for messages: the checkpoint's path (a copy quantized in memory
    /// keeps its original's, and its tokenizer).
    public let source: String

    /// Loads the model and tokenizer of a GGUF file or a Hugging Face directory, running with
    /// `numerics` and a KV cache of `cacheType` (nil: ``LlamaModel/CacheType/default(for:)``).
    public init(modelAt url: URL, numerics: LlamaModel.Numerics = .exact, cacheType: LlamaModel.CacheType? = nil) throws {
        var model = try LlamaModel(contentsOf: url)
        model.numerics = numerics
        model.cacheType = cacheType ?? .default(for: numerics)
        self.model = model
        tokenizer = try CausalTokenizer(loading: url)
        name = "\(url.lastPathComponent) (llama, in-process)"
        label = url.lastPathComponent
        source = url.path
        try Self.checkVocabulary(tokenizer, of: model, path: url.path)
    }

    /// The candidate of a comparison with this model (drift): the checkpoint at `file`, quantized
    /// in memory to `quantization` when given; without a file, this model quantized in memory to
    /// `quantization` (Q8_0 when that is nil too). The candidate runs with `numerics` and a KV
    /// cache of `cacheType` (nil: this model's type when its numerics are the same, else the default
    /// for `numerics`), so that the two models of a comparison store their caches alike.
    /// `lazily`: the quantization runs matrix by matrix at first use (``LlamaModel/quantized(_:pure:lazily:)``).
    /// - Throws: model and checkpoint errors, ``ModelError/unsupportedQuantization(type:supported:)``.
    public func candidate(file: URL?, quantization: GGMLType?, numerics: LlamaModel.Numerics,
                          cacheType: LlamaModel.CacheType? = nil, lazily: Bool = false) throws -> InProcessBackend {
        let cacheType = cacheType ?? (numerics == model.numerics ? model.cacheType : .default(for: numerics))
        var base = try file.map { try InProcessBackend(modelAt: $0, numerics: numerics, cacheType: cacheType) } ?? self
        var label = file == nil ? "reference" : base.label
        guard let type = quantization ?? (file == nil ? .q8_0 : nil) else { return base }
        var quantized = try base.model.quantized(type, lazily: lazily)
        quantized.numerics = numerics
        quantized.cacheType = cacheType
        label += "+" + type.description.lowercased()
        base = InProcessBackend(model: quantized, tokenizer: base.tokenizer, name: "\(label) (llama, in-process)", label: label,
                                source: base.source)
        return base
    }

    /// Every id the tokenizer can produce must index the model's embedding table.
    /// - Throws: ``ModelError/invalidMetadata(path:key:value:reason:)`` when the tokenizer is larger.
    public static func checkVocabulary(_ tokenizer: CausalTokenizer, of model: LlamaModel, path: String) throws {
        let rows = model.configuration.vocabulary
        guard tokenizer.vocabularySize <= rows, (tokenizer.bos ?? 0) < rows, (tokenizer.eos ?? 0) < rows else {
            throw ModelError.invalidMetadata(path: path, key: "vocab_size", value: String(rows),
                                             reason: "the tokenizer has \(tokenizer.vocabularySize) tokens (BOS \(tokenizer.bos.map(String.init) ?? "none"), EOS \(tokenizer.eos.map(String.init) ?? "none")), more than the model's embedding rows")
        }
    }

    /// Runs `model` (for example a copy quantized in memory) with `tokenizer`.
    public init(model: LlamaModel, tokenizer: CausalTokenizer, name: String, label: String? = nil, source: String? = nil) {
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.label = label ?? name
        self.source = source ?? name
    }

    /// Raw next-token logits of the rows `rows` of `tokens` (position 0 first), `vocabulary` each:
    /// what drift compares, before any rounding to log-probabilities.
    public func logits(_ tokens: [Int], rows: Range<Int>) -> [Float] { model.logits(tokens, rows: rows) }

    public func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) async throws -> [Int] {
        tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    public func detokenize(_ tokens: [Int]) async throws -> String { tokenizer.decode(tokens) }

    public func scoringFacts() async throws -> ScoringFacts {
        ScoringFacts(tokenizerName: tokenizer.name, vocabulary: model.configuration.vocabulary, bos: tokenizer.bos, eos: tokenizer.eos,
                     addedBOS: tokenizer.addedBOS, trainedContext: model.configuration.trainedContext, numerics: model.numerics.rawValue,
                     cacheType: model.cacheType.rawValue)
    }

    public func scoreTokens(_ tokens: [Int], from start: Int, options: ScoreOptions) async throws -> TokenScores {
        scoreTokensNow(tokens, from: start, options: options)
    }

    /// ``scoreTokens(_:from:options:)`` without the `async` hop (for callers already off the main actor).
    public func scoreTokensNow(_ tokens: [Int], from start: Int, options: ScoreOptions = ScoreOptions()) -> TokenScores {
        let v = model.configuration.vocabulary
        guard tokens.count >= 2, start < tokens.count - 1 else { return TokenScores(logProbabilities: [], rows: nil, top: nil) }
        let first = max(0, start)
        let logits = model.logits(tokens, rows: first..<(tokens.count - 1))
        var scores = TokenScores(logProbabilities: [], rows: options.fullRows ? [] : nil, top: options.topK > 0 ? [] : nil)
        for i in first..<(tokens.count - 1) {
            let row = logits[((i - first) * v)..<((i - first + 1) * v)]
            let logZ = TokenScoring.logSumExp(row)
            scores.logProbabilities.append(Double(row[row.startIndex + tokens[i + 1]]) - logZ)
            if options.fullRows { scores.rows?.append(row.map { Float(Double($0) - logZ) }) }
            if options.topK > 0 {
                let best = Sampler.candidates(row, topK: options.topK, topP: 1)
                scores.top?.append(best.map { ($0.token, Double(row[row.startIndex + $0.token]) - logZ) })
            }
        }
        return scores
    }

    public func generate(_ prompt: String, parameters: GenerationParameters) async throws -> Generation {
        try generateNow(prompt, parameters: parameters)
    }

    /// ``generate(_:parameters:)`` without the `async` hop. Cancellation stops after the current
    /// token (finish reason `length`).
    public func generateNow(_ prompt: String, parameters: GenerationParameters) throws -> Generation {
        let promptTokens = tokenizer.encode(parameters.apply(to: prompt), addSpecial: true, parseSpecial: true)
        guard !promptTokens.isEmpty else { throw ModelError.emptyPrompt }
        if let trained = model.configuration.trainedContext, promptTokens.count + parameters.maxTokens > trained {
            throw ModelError.contextTooLong(path: name, context: promptTokens.count + parameters.maxTokens, trained: trained)
        }
        let v = model.configuration.vocabulary
        let endTokens = Set(tokenizer.endOfGeneration)
        var sampler = Sampler(parameters.sampling)
        var cache = LlamaModel.KVCache(for: model)
        var clock = Date()
        var logits = model.forward(promptTokens, cache: &cache)
        var row = logits[((promptTokens.count - 1) * v)..<(promptTokens.count * v)]
        var generated: [Int] = [], promptSeconds = 0.0, tokenSeconds: [Double] = []
        var finish = FinishReason.length, text = ""
        while generated.count < parameters.maxTokens {
            // NaN logits would make any token look chosen (greedy took token 0, EOS on SmolLM2).
            if row.contains(where: \.isNaN) { throw ModelError.nonFiniteLogits(path: name, position: generated.count) }
            let next = sampler.next(row)
            let now = Date()
            if generated.isEmpty { promptSeconds = now.timeIntervalSince(clock) } else { tokenSeconds.append(now.timeIntervalSince(clock)) }
            clock = now
            generated.append(next)
            if endTokens.contains(next) { finish = .eos; break }
            text = tokenizer.decode(generated)
            if let cut = Self.firstStop(in: text, stops: parameters.stop) { text = String(text[..<cut]); finish = .stop; break }
            if generated.count == parameters.maxTokens || Task.isCancelled { break }
            logits = model.forward([next], cache: &cache)
            row = logits[0..<v]
        }
        if finish == .eos { text = tokenizer.decode(Array(generated.dropLast())) }
        return Generation(text: text, tokens: generated, promptTokens: promptTokens, finishReason: finish,
                          promptSeconds: promptSeconds, tokenSeconds: tokenSeconds)
    }

    /// Where the earliest stop string starts in `text`, if any does.
    static func firstStop(in text: String, stops: [String]) -> String.Index? {
        stops.filter { !$0.isEmpty }.compactMap { text.range(of: $0)?.lowerBound }.min()
    }
}
