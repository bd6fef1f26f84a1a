import Foundation

/// What to generate: sampling, limits, stop strings and an optional prompt template.
public struct GenerationParameters: Sendable, Equatable {
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation stops when the text contains one of these; the text is cut before it.
    public var stop: [String]
    /// A prompt template with `{prompt}` where the prompt goes, e.g. a chat template written out
    /// (`<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n`). Special tokens in it are
    /// recognised.
    public var template: String?

    public init(maxTokens: Int = 128, sampling: SamplingParameters = .greedy, stop: [String] = [], template: String? = nil) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.template = template
    }

    /// The prompt with the template applied (the prompt itself without a template).
    public func apply(to prompt: String) -> String {
        guard let template else { return prompt }
        return template.replacingOccurrences(of: "{prompt}", with: prompt)
    }
}

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// The end-of-generation token.
    case eos
    /// A stop string appeared.
    case stop
    /// `maxTokens` were generated.
    case length
}

/// A generated continuation and its timings.
public struct Generation: Sendable {
    /// The generated text, cut before a stop string and without the end-of-generation token.
    public var text: String
    /// Every generated token, including an end-of-generation token.
    public var tokens: [Int]
    public var promptTokens: [Int]
    public var finishReason: FinishReason
    /// Seconds to process the prompt and pick the first token (time to first token).
    public var promptSeconds: Double
    /// Seconds for each later token.
    public var tokenSeconds: [Double]
    /// The generated-token count a server reported when it returns no token ids.
    public var reportedTokenCount: Int?

    /// Generated tokens: the ids' count, or the count a server reported.
    public var tokenCount: Int { tokens.isEmpty ? reportedTokenCount ?? 0 : tokens.count }
}

/// Next-token log-probabilities of a token sequence.
public struct TokenScores: Sendable {
    /// ln p(tokens[i+1] | tokens[...i]) for the scored positions, in order.
    public var logProbabilities: [Double]
    /// The full log-softmax row of each scored position (`vocabulary` values each), on request.
    public var rows: [[Float]]?
    /// The `k` most likely next tokens at each scored position with their log-probabilities, on request.
    public var top: [[(token: Int, logProbability: Double)]]?
}

/// What `scoreTokens` should return besides the next-token log-probabilities.
public struct ScoreOptions: Sendable, Equatable {
    public var fullRows: Bool
    public var topK: Int

    public init(fullRows: Bool = false, topK: Int = 0) {
        self.fullRows = fullRows
        self.topK = topK
    }
}

/// What scoring procedures need to know about a model besides its scores: the tokenizer's name and
/// special tokens, the vocabulary, the trained length, and how it computes.
public struct ScoringFacts: Sendable, Equatable {
    /// Throws when `context` is longer than the model was trained for, or than a served model's
    /// server takes (`numerics` nil).
    public func check(context: Int, model: String) throws {
        guard let trained = trainedContext, context > trained else { return }
        if numerics == nil { throw ModelError.contextBeyondServer(model: model, context: context, limit: trained) }
        throw ModelError.contextTooLong(path: model, context: context, trained: trained)
    }

    /// For signatures (`gpt2-bpe:smollm`, …).
    public var tokenizerName: String
    public var vocabulary: Int
    public var bos: Int?
    public var eos: Int?
    /// BOS when the vocabulary adds it (llama-perplexity puts it first in every chunk).
    public var addedBOS: Int?
    /// The longest context the model was trained for, when known.
    public var trainedContext: Int?
    /// How the engine rounds (`exact`, `ggml`); nil for a served model.
    public var numerics: String?
    /// How the engine's KV cache stores keys and values (`f32`, `f16`); nil for a served model.
    public var cacheType: String?

    /// Facts; see the properties.
    public init(tokenizerName: String, vocabulary: Int, bos: Int?, eos: Int?, addedBOS: Int?, trainedContext: Int?, numerics: String?,
                cacheType: String? = nil) {
        self.tokenizerName = tokenizerName
        self.vocabulary = vocabulary
        self.bos = bos
        self.eos = eos
        self.addedBOS = addedBOS
        self.trainedContext = trainedContext
        self.numerics = numerics
        self.cacheType = cacheType
    }

    /// What a signature adds for the engine's rounding: `|numerics:ggml`, and `|kv:f16` where an f16
    /// cache can change exact numbers (with ggml numerics the values are f16 already); empty for
    /// exact numerics with an f32 cache and for served models.
    public var numericsTag: String {
        (numerics.map { $0 == "exact" ? "" : "|numerics:\($0)" } ?? "")
            + (numerics == "exact" && cacheType == "f16" ? "|kv:f16" : "")
    }
}

/// A language model behind a typed interface (DESIGN §3): the in-process engine
/// (``InProcessBackend``) or an OpenAI-compatible server (``OpenAIBackend``). No tensors leak out.
public protocol LanguageModelBackend: Sendable {
    /// A short description for reports (`smollm2.gguf (llama, in-process)`).
    var name: String { get }
    /// Token ids of `text`; `addSpecial` adds BOS when the vocabulary does, `parseSpecial`
    /// recognises special-token text such as `<|im_start|>`.
    func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) async throws -> [Int]
    /// Text of token ids.
    func detokenize(_ tokens: [Int]) async throws -> String
    /// Runs `tokens` (position 0 first) and returns, for every position `i ≥ start` before the
    /// last, ln p(tokens[i+1] | tokens[0...i]).
    func scoreTokens(_ tokens: [Int], from start: Int, options: ScoreOptions) async throws -> TokenScores
    /// Continues `prompt` (the template applied first).
    func generate(_ prompt: String, parameters: GenerationParameters) async throws -> Generation
    /// What scoring needs to know about the model.
    /// - Throws: ``ModelError/unsupportedRemote(url:what:)`` for a backend that cannot score tokens.
    func scoringFacts() async throws -> ScoringFacts
}
