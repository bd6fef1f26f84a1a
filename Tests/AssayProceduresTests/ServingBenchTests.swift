import AssayMetrics
@testable import AssayModels
import AssayProcedures
import AssayStats
import AssayTestSupport
import Foundation
import Testing

/// The serving benchmark: arrival schedules on made-up input, then a concurrent load against the
/// real server scripts/test.sh starts (llama-cpp-python serving SmolLM2).
struct ServingBenchTests {
    @Test func completionTimingsBecomeOutcomes() throws {
        let events = [#"{"choices":[{"text":"Hel","finish_reason":null}]}"#, #"{"choices":[{"text":"lo","finish_reason":null}]}"#,
                      #"{"choices":[{"text":"","finish_reason":"length"}]}"#, #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#, "[DONE]"]
        let stream = EventStream.Result(events: events.enumerated().map { .init(data: $1, nanoseconds: UInt64(100 + 10 * $0)) },
                                        body: Data(), endNanoseconds: 140, handlerNanoseconds: 1)
        let outcome = ServingOutcome(completion: try StreamedCompletion(parsing: stream, url: "u"))
        #expect(outcome.ttftSeconds == 100e-9 && outcome.latencySeconds == 120e-9 && outcome.interTokenSeconds.count == 2)

        let chatEvents = [#"{"choices":[{"delta":{"role":"assistant"},"finish_reason":null}]}"#, #"{"choices":[{"delta":{"content":"Hi"}}]}"#,
                          #"{"choices":[{"delta":{"content":" there"},"finish_reason":"length"}]}"#, #"{"choices":[],"usage":{"completion_tokens":2}}"#, "[DONE]"]
        let chatStream = EventStream.Result(events: chatEvents.enumerated().map { .init(data: $1, nanoseconds: UInt64(1_000 * ($0 + 1))) },
                                            body: Data(), endNanoseconds: 5_000, handlerNanoseconds: 0)
        let chat = try StreamedCompletion(parsing: chatStream, api: .chat, url: "u")
        // Chat latency ends at the last event (the usage one); completions at the last choice.
        #expect(ServingOutcome(completion: chat, api: .chat).latencySeconds == 4e-6)
        #expect(ServingOutcome(completion: chat, api: .completions).latencySeconds == 3e-6)
    }

    @Test func arrivalsFollowTheRateAndBurstiness() {
        let requests = Array(repeating: ServingWorkload.Request(prompt: "p", maxTokens: 1), count: 4000)
        #expect(ServingWorkload(requests: requests).releaseTimes().allSatisfy { $0 == 0 })
        for burstiness in [0.5, 1.0, 4.0] {
            let times = ServingWorkload(requests: requests, requestRate: 10, burstiness: burstiness, seed: 3).releaseTimes()
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            let mean = Summary.mean(gaps)!, variance = pow(Summary.standardDeviation(gaps)!, 2)
            // gamma(k, 1/(10k)): mean 0.1, variance 0.01 / k.
            #expect(abs(mean - 0.1) < 0.006, "burstiness \(burstiness): mean gap \(mean)")
            #expect(abs(variance * burstiness / 0.01 - 1) < 0.15, "burstiness \(burstiness): variance \(variance)")
            #expect(times[0] == 0)
        }
        let a = ServingWorkload(requests: requests, requestRate: 2, seed: 9).releaseTimes()
        #expect(a == ServingWorkload(requests: requests, requestRate: 2, seed: 9).releaseTimes())
    }

    @Test func realServerUnderConcurrentLoad() async throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let server = OpenAIServer(baseURL: endpoint, model: name)
        let requests = (0..<6).map { ServingWorkload.Request(prompt: "Count from \($0) to \($0 + 5):", maxTokens: 8, promptTokens: 9) }
        let run = try await ServingBench.run(ServingWorkload(requests: requests, maxConcurrency: 2), on: server)
        #expect(run.outcomes.count == 6 && run.outcomes.allSatisfy(\.success), "\(run.outcomes.compactMap(\.error))")
        for outcome in run.outcomes {
            #expect(outcome.ttftSeconds > 0 && outcome.latencySeconds >= outcome.ttftSeconds)
            #expect(outcome.interTokenSeconds.count == outcome.chunks - 1)
            #expect(abs(outcome.interTokenSeconds.reduce(0, +) - (outcome.latencySeconds - outcome.ttftSeconds)) < 1e-6)
            #expect(outcome.promptTokens == 9)  // this server reports no usage in the stream: the local count stays
        }
        let latencies = run.outcomes.map(\.latencySeconds).reduce(0, +)
        // (No upper bound: on a busy machine finishing a stream after its last token can take seconds.)
        #expect(run.durationSeconds >= run.outcomes.map(\.latencySeconds).max()!)
        // The client's own handling inside the timed window stays under 1 % of what it times.
        let client = run.outcomes.map(\.clientSeconds).reduce(0, +)
        #expect(client / latencies < 0.01, "client overhead \(client / latencies * 100) %")
        let metrics = ServingMetrics(outcomes: run.outcomes, outputTokens: run.outcomes.map(\.chunks), durationSeconds: run.durationSeconds, percentiles: [50, 99])
        #expect(metrics.completed == 6 && metrics.totalInputTokens == 54 && metrics.ttft != nil && metrics.itl != nil)
    }
}
