import AssayMetrics
import AssayModels
import Foundation

/// Perplexity of a text under a model, `mode: chunked` = llama.cpp `llama-perplexity` (see
/// docs/engine.md). The model must be a local Llama-family GGUF file.
public struct PerplexityEvaluator: Evaluator {
    public static let id = "perplexity"
    public static let summary = "Perplexity of a text, exactly llama-perplexity's chunked definition (in-process engine)"
    public static let options: [OptionSpec] = [
        OptionSpec("mode", .choice(["chunked"]), default: .string("chunked"), "chunked = llama-perplexity (rolling comes later)"),
        OptionSpec("context", .integer(minimum: 4), default: .integer(512), "tokens per chunk"),
        OptionSpec("chunks", .integer(minimum: 0), default: .integer(0), "evaluate at most this many chunks (0: all)"),
    ]
    public static let metrics: [MetricSpec] = [
        MetricSpec("perplexity", higherIsBetter: false, summary: "exp(mean NLL) over the scored tokens, with llama-perplexity's ±"),
        MetricSpec("mean_nll", higherIsBetter: false, unit: "nats", summary: "mean negative log-likelihood"),
        MetricSpec("tokens_scored", higherIsBetter: true, summary: "tokens that were predicted"),
    ]
    public static let datasetKinds: [DatasetKind] = [.text]
    public static let modelRoles: ModelRoles = .model

    let context: Int
    let chunks: Int

    public init(options: OptionValues) throws {
        context = options.integer("context") ?? 512
        chunks = options.integer("chunks") ?? 0
    }

    public func evaluate(in context: EvaluationContext) async throws -> EvaluationResult {
        guard case let .text(path)? = context.dataset else { throw EvaluatorError.missingDataset(evaluator: Self.id) }
        guard case let .file(url)? = context.model else {
            throw EvaluatorError.invalidOption(name: "model", message: "perplexity needs a local GGUF model (endpoints come with the remote backend)")
        }
        var data: Data
        do { data = try Data(contentsOf: path) } catch {
            throw EvaluatorError.malformedDataset(path: path.path, line: nil, message: "cannot read: \(error.localizedDescription)", hint: nil)
        }
        if data.last == 0x0A { data.removeLast() }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluatorError.malformedDataset(path: path.path, line: nil, message: "not valid UTF-8", hint: "re-encode the file as UTF-8")
        }
        let progress = context.progress, id = context.evaluationID
        let result = try ChunkedPerplexity.run(modelAt: url, text: text, context: self.context, maxChunks: chunks) { done, total in
            progress.update(evaluation: id, completed: done, total: total, detail: "chunks")
        }
        let hash = (try? SHA256.hex(fileAt: url)).map { String($0.prefix(12)) } ?? "?"
        let a = result.accumulator
        return EvaluationResult(
            metrics: [
                MetricValue(name: "perplexity", value: a.perplexity, stderr: a.standardError, higherIsBetter: false),
                MetricValue(name: "mean_nll", value: a.meanNLL, unit: "nats", higherIsBetter: false),
                MetricValue(name: "tokens_scored", value: Double(a.count), higherIsBetter: true),
            ],
            items: [],
            signature: ChunkedPerplexity.signature(result, modelHash: hash, version: AssayVersion.current))
    }
}
