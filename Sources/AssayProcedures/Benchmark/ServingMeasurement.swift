import AssayMetrics
import AssayModels
import Foundation

/// One serving run and its metrics: what `assay bench-serve` prints per column and the `serving`
/// evaluator turns into metric values.
public struct ServingMeasurement: Sendable {
    public var run: ServingRun
    public var metrics: ServingMetrics
    /// Output tokens per request and where the counts came from (`usage`, `tokenizer`, `events`).
    public var outputTokens: [Int]
    public var tokenSource: String
}

extension ServingBench {
    /// benchmark_serving's start: the server must serve the model, then `warmup` test requests of
    /// `first` fail fast on a wrong setting and warm the server.
    /// - Throws: ``ModelError`` (unreachable, unknown model, HTTP or stream errors).
    public static func prepare(_ server: OpenAIServer, first: ServingWorkload.Request, api: CompletionAPI, ignoreEOS: Bool,
                               warmup: Int) async throws {
        try await server.checkModel()
        for _ in 0..<warmup {
            _ = try await server.streamCompletion(CompletionRequest(prompt: first.prompt, maxTokens: first.maxTokens, api: api, ignoreEOS: ignoreEOS))
        }
    }

    /// Runs `workload` and computes vLLM's serving metrics over it.
    /// - Parameters:
    ///   - tokenizer: counts output tokens when the server reports no usage (and input tokens of
    ///     random prompts); nil falls back to one token per streamed event.
    ///   - progress: called after each finished request with the number finished and the total.
    /// - Throws: `CancellationError` when the task is cancelled.
    public static func measure(_ workload: ServingWorkload, on server: OpenAIServer, tokenizer: CausalTokenizer?, percentiles: [Double],
                               objectives: ServingObjectives, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> ServingMeasurement {
        let total = workload.requests.count
        let run = try await run(workload, on: server) { done in progress(done, total) }
        let (tokens, source) = run.outputTokens(counting: tokenizer)
        let metrics = ServingMetrics(outcomes: run.outcomes, outputTokens: tokens, durationSeconds: run.durationSeconds,
                                     percentiles: percentiles, objectives: objectives)
        return ServingMeasurement(run: run, metrics: metrics, outputTokens: tokens, tokenSource: source)
    }
}
