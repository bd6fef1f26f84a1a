import AssayCore
import AssayMetrics
import AssayStats
import AssayModels
import Foundation

/// A serving workload as vLLM's benchmark_serving sends it: requests released on a schedule
/// (all at once, or with gamma-distributed gaps — a Poisson process when `burstiness` is 1) and
/// at most `maxConcurrency` in flight.
public struct ServingWorkload: Sendable, Equatable {
    /// One request: its prompt and how many tokens to ask for.
    public struct Request: Sendable, Equatable {
        public var prompt: String
        public var maxTokens: Int
        /// The prompt's length in tokens when known locally (used when the server reports no usage).
        public var promptTokens: Int?

        /// A request for up to `maxTokens` tokens after `prompt`.
        public init(prompt: String, maxTokens: Int, promptTokens: Int? = nil) {
            self.prompt = prompt
            self.maxTokens = maxTokens
            self.promptTokens = promptTokens
        }
    }

    public var requests: [Request]
    /// Requests per second; `.infinity` releases them all at once.
    public var requestRate: Double
    /// Shape of the gamma distribution of the gaps (1: exponential gaps, a Poisson process;
    /// below 1 burstier, above 1 more even). The mean gap stays 1 / `requestRate`.
    public var burstiness: Double
    /// At most this many requests in flight (nil: no limit).
    public var maxConcurrency: Int?
    /// Sent as `ignore_eos` so that every request generates `maxTokens`.
    public var ignoreEOS: Bool
    /// `/v1/completions` or `/v1/chat/completions`.
    public var api: CompletionAPI
    /// Seeds the arrival gaps.
    public var seed: UInt64

    /// A workload; see the properties.
    public init(requests: [Request], requestRate: Double = .infinity, burstiness: Double = 1, maxConcurrency: Int? = nil,
                ignoreEOS: Bool = false, api: CompletionAPI = .completions, seed: UInt64 = 0) {
        precondition(requestRate > 0 && burstiness > 0, "request rate and burstiness must be positive")
        precondition(maxConcurrency.map { $0 > 0 } ?? true, "max concurrency must be positive")
        self.requests = requests
        self.requestRate = requestRate
        self.burstiness = burstiness
        self.maxConcurrency = maxConcurrency
        self.ignoreEOS = ignoreEOS
        self.api = api
        self.seed = seed
    }

    /// Seconds from the start at which each request is released: 0 for all at an infinite
    /// rate; otherwise cumulative gamma(shape: burstiness, scale: 1 / (rate · burstiness)) gaps,
    /// the first request at 0 (benchmark_serving sleeps after each request it yields).
    public func releaseTimes() -> [Double] {
        guard requestRate.isFinite else { return Array(repeating: 0, count: requests.count) }
        var rng = SeededGenerator(seed: seed)
        var time = 0.0
        return requests.indices.map { _ in
            defer { time += Gamma.sample(shape: burstiness, scale: 1 / (requestRate * burstiness), using: &rng) }
            return time
        }
    }
}

/// Runs a ``ServingWorkload`` against an ``OpenAIServer`` and keeps each request's timings.
public enum ServingBench {
    /// Sends the workload and waits for every request.
    /// - Parameter progress: called after each finished request with the number finished.
    /// - Throws: `CancellationError` when the task is cancelled (requests in flight are cut).
    /// - Returns: one outcome per request, in the workload's order, and the wall time from the
    ///   first release to the last finished request.
    public static func run(_ workload: ServingWorkload, on server: OpenAIServer,
                           progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> ServingRun {
        let releases = workload.releaseTimes()
        let slots = workload.maxConcurrency.map { AsyncSemaphore($0) }
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuAtStart = ProcessStats.cpuSeconds
        let finished = Counter()
        let outcomes = try await withThrowingTaskGroup(of: (Int, ServingOutcome).self) { group in
            for (index, request) in workload.requests.enumerated() {
                let due = start + UInt64(releases[index] * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { try await Task.sleep(nanoseconds: due - now) }
                group.addTask {
                    // Like benchmark_serving, the clock of a request starts when it gets a slot.
                    if let slots { await slots.wait() }
                    var outcome = await send(request, workload: workload, server: server)
                    if let slots { await slots.signal() }
                    if outcome.promptTokens == nil { outcome.promptTokens = request.promptTokens }
                    progress(await finished.increment())
                    return (index, outcome)
                }
            }
            var outcomes = [ServingOutcome?](repeating: nil, count: workload.requests.count)
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
        // An interrupted run is not a run with failed requests.
        try Task.checkCancellation()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return ServingRun(outcomes: outcomes, durationSeconds: seconds, clientCPUSeconds: ProcessStats.cpuSeconds - cpuAtStart)
    }

    /// One request, never repeated; failures become failed outcomes (benchmark_serving counts them,
    /// the run goes on).
    static func send(_ request: ServingWorkload.Request, workload: ServingWorkload, server: OpenAIServer) async -> ServingOutcome {
        do {
            let completion = try await server.streamCompletion(CompletionRequest(prompt: request.prompt, maxTokens: request.maxTokens,
                                                                                  api: workload.api, ignoreEOS: workload.ignoreEOS),
                                                            retrying: false)
            return ServingOutcome(completion: completion, api: workload.api)
        } catch {
            return ServingOutcome(error: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// A counter shared by the request tasks.
    actor Counter {
        private var value = 0
        func increment() -> Int { value += 1; return value }
    }
}

/// What came back from a serving run.
public struct ServingRun: Sendable {
    /// One per request, in order.
    public var outcomes: [ServingOutcome]
    /// From the first release to the last finished request.
    public var durationSeconds: Double
    /// CPU time this process used over the run (all its threads: the requests' tasks, the HTTP
    /// client's event loops, and anything else the process did meanwhile).
    public var clientCPUSeconds: Double

    /// Output tokens per request (0 for failures): the server's `usage.completion_tokens`, else
    /// `tokenizer`'s count of the text (benchmark_serving's fallback), else one per event — and
    /// which of these were used (`usage`, `tokenizer`, `events`, joined with `+`).
    public func outputTokens(counting tokenizer: CausalTokenizer?) -> (tokens: [Int], source: String) {
        var sources = Set<String>()
        let tokens = outcomes.map { outcome -> Int in
            guard outcome.success else { return 0 }
            if let usage = outcome.completionTokens { sources.insert("usage"); return usage }
            if let tokenizer { sources.insert("tokenizer"); return tokenizer.encode(outcome.text, addSpecial: false, parseSpecial: false).count }
            sources.insert("events")
            return outcome.chunks
        }
        return (tokens, sources.isEmpty ? "none" : sources.sorted().joined(separator: "+"))
    }
}

extension ServingOutcome {
    /// A successful request's timings, in benchmark_serving's terms: TTFT is the arrival of the
    /// first event with a choice (for chat, usually the one that only names the role); every later
    /// such event adds one inter-token latency (the gap to the previous one); the latency ends at
    /// the last event with a choice — for chat at the last event before `[DONE]`, a usage-only
    /// one included (benchmark_serving's `openai-chat` client stamps every event).
    public init(completion: StreamedCompletion, api: CompletionAPI = .completions) {
        let times = completion.choiceNanoseconds.map { Double($0) / 1e9 }
        let end = api == .chat ? max(times[times.count - 1], Double(completion.lastEventNanoseconds) / 1e9) : times[times.count - 1]
        self.init(success: true, ttftSeconds: times[0], latencySeconds: end,
                  interTokenSeconds: zip(times.dropFirst(), times).map { $0 - $1 }, text: completion.text,
                  promptTokens: completion.promptTokens, completionTokens: completion.completionTokens, chunks: times.count)
        clientSeconds = Double(completion.clientNanoseconds) / 1e9
    }
}

/// Waiters beyond a fixed number of slots queue in order.
actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ slots: Int) { available = slots }

    func wait() async {
        if available > 0 { available -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func signal() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
    }
}

/// Gamma-distributed random numbers (Marsaglia and Tsang 2000; shape < 1 via the boost
/// x · U^(1/shape)).
public enum Gamma {
    /// One draw from gamma(shape, scale), mean shape · scale.
    public static func sample(shape: Double, scale: Double, using rng: inout SeededGenerator) -> Double {
        precondition(shape > 0 && scale > 0, "shape and scale must be positive")
        if shape < 1 {
            let u = uniform(&rng)
            return sample(shape: shape + 1, scale: scale, using: &rng) * Foundation.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal(&rng)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = uniform(&rng)
            if u < 1 - 0.0331 * x * x * x * x || Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) {
                return d * v * scale
            }
        }
    }

    /// Uniform in (0, 1).
    static func uniform(_ rng: inout SeededGenerator) -> Double {
        (Double(rng.next() >> 11) + 0.5) / 9007199254740992.0
    }

    /// Standard normal (Box–Muller).
    static func normal(_ rng: inout SeededGenerator) -> Double {
        (-2 * Foundation.log(uniform(&rng))).squareRoot() * Foundation.cos(2 * Double.pi * uniform(&rng))
    }
}
