import AssayCore
import AssayMetrics
import AssayModels
import AssayTensor
import Foundation

/// Generates a completion for every prompt of a dataset — with the in-process engine, or with an
/// OpenAI-compatible server for an `endpoint` model — and scores the completions against the references with chrF and BLEU (sacrebleu's definitions). The dataset's
/// `hypothesis` field (or hypotheses file) holds the prompts. With `quantize:` the model is quantized
/// in memory first, so a suite can generate with the full and the quantized model and compare the
/// per-item scores with `paired-delta` (docs/drift.md).
public struct GenerationEvaluator: Evaluator {
    public static let id = "generation"
    public static let summary = "Greedy (or sampled) completions of each prompt, scored with chrF and BLEU against the references; per-item scores and outputs"
    public static let options: [OptionSpec] = [
        OptionSpec("template", .string, default: .string("{prompt}"), "prompt template; {prompt} is replaced, special tokens in it are parsed"),
        OptionSpec("max_tokens", .integer(minimum: 1), default: .integer(64), "tokens generated at most per prompt"),
        OptionSpec("stop", .string, default: nil, "stop string (the completion ends before it)"),
        OptionSpec("temperature", .number(exclusiveMinimum: nil), default: .number(0), "0 = greedy"),
        OptionSpec("seed", .integer(minimum: 0), default: .integer(1), "sampling seed"),
        OptionSpec("quantize", .choice(["none"] + Quantizer.supportedTypes.map { $0.description.lowercased() }), default: .string("none"),
                   "quantize the model in memory first"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("chrf", higherIsBetter: true, summary: "corpus chrF of the completions against the references"),
        MetricSpec("bleu", higherIsBetter: true, unit: "BLEU", summary: "corpus BLEU (13a) of the completions"),
        MetricSpec("tokens_generated", higherIsBetter: true, summary: "tokens generated in all"),
    ]
    public static let datasetKinds: [DatasetKind] = [.parallel, .jsonl]
    public static let modelRoles: ModelRoles = .model
    public static let sharding = ShardMode.items

    let parameters: GenerationParameters
    let quantize: GGMLType?

    public init(options: OptionValues) throws {
        let template = options.string("template") ?? "{prompt}"
        guard template.contains("{prompt}") else { throw EvaluatorError.invalidOption(name: "template", message: "must contain {prompt}") }
        let temperature = options.number("temperature") ?? 0
        guard temperature >= 0 else { throw EvaluatorError.invalidOption(name: "temperature", message: "must be 0 or more") }
        parameters = GenerationParameters(
            maxTokens: options.integer("max_tokens") ?? 64,
            sampling: temperature == 0 ? .greedy : SamplingParameters(temperature: temperature, seed: UInt64(options.integer("seed") ?? 1)),
            stop: options.string("stop").map { [$0] } ?? [], template: template)
        let name = options.string("quantize") ?? "none"
        quantize = Quantizer.supportedTypes.first { $0.description.lowercased() == name }
    }

    static let servedNotQuantized = "a served model cannot be quantized by Assay; quantize the file the server loads, or compare local files"
    public static func refusedModel(_ model: ModelSpec, role: ModelRoles, options: OptionValues) -> String? {
        if case .endpoint = model, (options.string("quantize") ?? "none") != "none" { return servedNotQuantized }
        return nil
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        let corpus = try context.parallelCorpus(for: Self.id)
        let backend: any LanguageModelBackend, modelName: String
        var retries: RetryLog?
        var identity: String?  // what names the weights in the item cache's keys
        switch context.model {
        case let .file(url)?:
            if context.itemCache != nil { identity = Self.identity(ofModelAt: url) }
            var local = try InProcessBackend(modelAt: url)
            if let quantize {
                local = InProcessBackend(model: try local.model.quantized(quantize), tokenizer: local.tokenizer, name: local.name + " → " + quantize.description)
            }
            (backend, modelName) = (local, url.lastPathComponent)
        case let .endpoint(url, name, keyVariable)?:
            guard quantize == nil else {
                throw EvaluatorError.invalidOption(name: "quantize", message: Self.servedNotQuantized)
            }
            let server = OpenAIServer(baseURL: url, model: name, apiKey: try ModelSpec.apiKey(variable: keyVariable))
            try await server.checkModel()
            (backend, modelName, retries) = (OpenAIBackend(server: server), "\(name)@\(Redaction.url(url))", server.retries)
            identity = "served:\(name)@\(Redaction.scrub(url.absoluteString))"
        case nil:
            throw EvaluatorError.invalidOption(name: "model", message: "generation needs a model: a local Llama-family file or an endpoint")
        }
        let range = context.itemRange(of: corpus.ids.count)
        var items: [ItemRow] = []
        let cache = identity.flatMap { model in context.itemCache.map { ($0, model) } }
        for i in range {
            try context.checkCancellation()
            let key = cache.map { cache, model in cache.key(model: model, content: Data(corpus.hypotheses[i].utf8)) }
            var generated: (output: String, tokens: Int)
            if let key, let kept = cache?.0.row(forKey: key), let output = kept.values["output"]?.string, let tokens = try? kept.count("tokens") {
                cache?.0.taken()
                generated = (output, tokens)
            } else {
                let generation = try await backend.generate(corpus.hypotheses[i], parameters: parameters)
                // The engine stops a generation early when the run is interrupted: that one is
                // neither kept nor counted.
                try context.checkCancellation()
                generated = (generation.text.trimmingCharacters(in: .whitespacesAndNewlines), generation.tokenCount)
                if let key {
                    cache?.0.record(ItemRow(id: corpus.ids[i], values: ["output": .string(generated.output), "tokens": .number(Double(generated.tokens))]),
                                    forKey: key)
                }
            }
            items.append(ItemRow(id: corpus.ids[i], values: corpus.itemTexts(i, hypothesisKey: "prompt").merging([
                "output": .string(generated.output), "tokens": .number(Double(generated.tokens)),
            ]) { _, value in value }))
            context.progress.update(evaluation: context.evaluationID, completed: items.count, total: range.count, detail: "prompts")
        }
        let quantizeTag = quantize.map { "+" + $0.description.lowercased() } ?? ""
        var parts: [(String, String)] = [("model", modelName + quantizeTag), ("template", parameters.template ?? "{prompt}"),
                                         ("max_tokens", String(parameters.maxTokens)),
                                         ("sampling", parameters.sampling == .greedy ? "greedy" : "temperature")]
        // Sampled completions depend on the temperature and the seed, any completion on its stop
        // string (%-escaped: a newline would break the signature's line, a | its parts).
        if parameters.sampling != .greedy {
            for part in parameters.sampling.signature.split(separator: "|") {  // temp:…|top_k:…|top_p:…|seed:…, as assay generate names them
                let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
                parts.append((pair[0], pair.count > 1 ? pair[1] : ""))
            }
        }
        for stop in parameters.stop {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.insert(" ")
            allowed.remove(charactersIn: "|%&")
            parts.append(("stop", stop.addingPercentEncoding(withAllowedCharacters: allowed) ?? stop))
        }
        for part in try ChrF().signature(references: ReferenceCount(corpus.references)).parts { parts.append((part.key, part.value)) }
        var result = try finish(items: items, signature: Signature(parts).description, in: context)
        result.addNote(retries?.summary)
        return result
    }

    /// What names a local model's weights and tokenizer in the item cache's keys: the weights'
    /// hash, and for a model directory its tokenizer files' too (a changed template or special
    /// token changes every completion).
    static func identity(ofModelAt url: URL, weights: String? = nil) -> String? {
        guard var identity = weights ?? (try? SHA256.hex(modelAt: url)) else { return nil }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.txt", "vocab.json", "merges.txt"] {
                if let hash = try? SHA256.hex(fileAt: url.appendingPathComponent(name)) { identity += "|\(name):\(hash)" }
            }
        }
        return identity
    }

    /// chrF and BLEU of the rows' outputs against their references, and the tokens generated.
    public func merge(items: [ItemRow], signature: String, in context: EvaluationContext) throws -> EvaluationResult {
        guard !items.isEmpty else { throw MetricsError.emptyInput(what: "prompts") }
        let chrf = try ChrF(), bleu = try BLEU(), sentenceBLEU = try BLEU(BLEU.Configuration(effectiveOrder: true))
        var outputs: [String] = [], references: [[String]] = [], tokens = 0
        for row in items {
            guard let output = row.values["output"]?.string, let refs = row.values["references"]?.array?.compactMap(\.string),
                  !refs.isEmpty, refs.count == row.values["references"]?.array?.count else {
                throw EvaluatorError.malformedDataset(path: "item '\(row.id)'", line: nil, message: "needs an 'output' text and at least one 'references' text",
                                                      hint: "run the shard that wrote it again with this version of assay")
            }
            outputs.append(output)
            references.append(refs)
            tokens += try row.count("tokens")
        }
        let chrfStats = chrf.statistics(hypotheses: outputs, references: references)
        let bleuStats = bleu.statistics(hypotheses: outputs, references: references)
        let rows = items.indices.map { i in
            var row = items[i]
            row.values["sentence_chrf"] = .number(chrf.score(chrfStats[i]))
            row.values["sentence_bleu"] = .number(sentenceBLEU.score(bleuStats[i]).score)
            return row
        }
        return EvaluationResult(
            metrics: [
                MetricValue(name: "chrf", value: chrf.score(chrf.sum(chrfStats)), higherIsBetter: true),
                MetricValue(name: "bleu", value: bleu.score(BLEUStatistics.sum(bleuStats, order: 4)).score, unit: "BLEU", higherIsBetter: true),
                MetricValue(name: "tokens_generated", value: Double(tokens), higherIsBetter: true),
            ],
            items: rows, signature: signature)
    }
}
