import ArgumentParser
import AssayCore
import AssayMetrics
import AssayModels
import AssayProcedures
import AssayReport
import Foundation

extension AssayCommand {
    /// `assay bench-serve`: an OpenAI-compatible server under load, as vLLM's benchmark_serving measures it.
    struct BenchServe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-serve",
            abstract: "Load an OpenAI-compatible server (vLLM, llama-server, …) and measure TTFT, TPOT, ITL, throughput and goodput as vLLM's benchmark_serving does.",
            discussion: """
                Sends --num-prompts streamed /v1/completions requests (temperature 0; --api chat: \
                /v1/chat/completions with the prompt as one user message) for every \
                combination of --request-rate and --max-concurrency. Requests are released all at \
                once (rate inf) or with gamma-distributed gaps of mean 1/rate (--burstiness 1: a \
                Poisson process); at most --max-concurrency are in flight, and a request's clock starts \
                when it gets a slot.

                Per successful request: TTFT = time to the first streamed event with a choice; E2EL = \
                time to the last one (chat: to the last event, usage included, as benchmark_serving's \
                openai-chat client); ITL = every gap between such events; TPOT = (E2EL − TTFT) / \
                (output tokens − 1). Output tokens come from the server's usage field when it sends one \
                in the stream, else from --tokenizer's count of the text, else one per event (the \
                report says which). Throughputs divide by the run's wall time; goodput counts requests \
                meeting every --goodput objective. Latencies: mean, median, population std and \
                percentiles (linear interpolation, as NumPy).

                Prompts: --prompts FILE (a prompt per line, or JSONL with "prompt"), or \
                --random-input-len N with --tokenizer (benchmark_serving's random dataset: consecutive \
                token ids from a random offset, special tokens skipped, the text re-encoded to N tokens).

                Examples:
                  assay bench-serve --endpoint http://127.0.0.1:8000/v1 --model smollm2 \\
                    --tokenizer SmolLM2.gguf --random-input-len 128 --output-len 64
                  assay bench-serve --endpoint http://127.0.0.1:8000/v1 --model smollm2 \\
                    --prompts prompts.txt --max-concurrency 1,4,16 --goodput ttft:500
                  assay bench-serve … --request-rate 2,8 --burstiness 0.5 --format json
                """)

        @Option(name: .long, help: ArgumentHelp("Base URL of the server's OpenAI API, ending in /v1.", valueName: "url"))
        var endpoint: String

        @Option(name: .long, help: ArgumentHelp("The served model name (see the server's /v1/models).", valueName: "name"))
        var model: String

        @Option(name: .long, help: "completions (/v1/completions, the prompt as text) or chat (/v1/chat/completions, the prompt as one user message).")
        var api: APIChoice = .completions

        enum APIChoice: String, ExpressibleByArgument, CaseIterable {
            case completions, chat
            var api: CompletionAPI { self == .chat ? .chat : .completions }
        }

        @Option(name: .long, help: ArgumentHelp("Prompts: one per line, or JSONL objects with \"prompt\".", valueName: "file"))
        var prompts: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Random prompts of this many tokens (needs --tokenizer).", valueName: "n"))
        var randomInputLen: Int?

        @Option(name: .long, help: ArgumentHelp("The served model's tokenizer (a .gguf file or Hugging Face directory): random prompts, and token counts when the server reports no usage.", valueName: "path"))
        var tokenizer: String?

        @Option(name: .long, parsing: .unconditional, help: "Requests per run.")
        var numPrompts: Int = 100

        @Option(name: .long, parsing: .unconditional, help: "max_tokens of every request.")
        var outputLen: Int = 128

        @Flag(name: .long, help: "Send ignore_eos so every request generates --output-len tokens (vLLM, llama-server).")
        var ignoreEos = false

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Requests per second, comma-separated; inf sends all at once.", valueName: "rates"))
        var requestRate = NumberList([.infinity])

        @Option(name: .long, parsing: .unconditional, help: "Gamma shape of the gaps between requests (1: Poisson; < 1 burstier).")
        var burstiness: Double = 1

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Most requests in flight, comma-separated; 0 for no limit.", valueName: "levels"))
        var maxConcurrency = IntegerList([0])

        @Option(name: .long, help: ArgumentHelp("Goodput objectives in ms, e.g. ttft:500,tpot:50,e2el:2000.", valueName: "objectives"))
        var goodput: String?

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Latency percentiles to report, comma-separated.", valueName: "list"))
        var percentiles = NumberList([50, 90, 99])

        @Option(name: .long, parsing: .unconditional, help: "Unmeasured requests first (benchmark_serving sends one).")
        var warmup: Int = 1

        @Option(name: .long, parsing: .unconditional, help: "Seed of the random prompts and the arrival gaps.")
        var seed: UInt64 = 0

        @Option(name: .long, parsing: .unconditional, help: "Seconds without a byte before a request fails; a whole answer may take 4 times this.")
        var timeout: Double = 600

        @Flag(name: .long, help: "JSON: add each request's ttft, itl, e2el, tokens and error.")
        var detailed = false

        @Option(name: .long, help: "md (a table) or json (an array of runs with benchmark_serving's keys).")
        var format: ServeFormat = .md

        enum ServeFormat: String, ExpressibleByArgument, CaseIterable { case md, json }

        func validate() throws {
            guard URL(string: endpoint)?.scheme.map({ ["http", "https"].contains($0) }) == true else {
                throw ValidationError("--endpoint must be an http(s) URL such as http://127.0.0.1:8000/v1")
            }
            guard (prompts == nil) != (randomInputLen == nil) else { throw ValidationError("give either --prompts FILE or --random-input-len N") }
            if randomInputLen != nil, tokenizer == nil { throw ValidationError("--random-input-len needs --tokenizer (the served model's .gguf or directory)") }
            if let n = randomInputLen, n < 1 { throw ValidationError("--random-input-len must be at least 1") }
            guard numPrompts >= 1, outputLen >= 1, warmup >= 0, timeout > 0, timeout.isFinite else {
                throw ValidationError("--num-prompts and --output-len must be at least 1, --warmup 0 or more, --timeout a positive number of seconds")
            }
            guard burstiness > 0, burstiness.isFinite else { throw ValidationError("--burstiness must be a positive number") }
            _ = try rates()
            _ = try concurrencies()
            _ = try percentileList()
            if let goodput {
                do { _ = try ServingObjectives(parsing: goodput) } catch { throw ValidationError((error as? LocalizedError)?.errorDescription ?? "\(error)") }
            }
        }

        func rates() throws -> [Double] {
            guard requestRate.values.allSatisfy({ $0 > 0 }) else { throw ValidationError("--request-rate must list positive numbers or inf, e.g. 1,4,inf") }
            return requestRate.values
        }

        func concurrencies() throws -> [Int?] {
            try maxConcurrency.checked("--max-concurrency", minimum: 0).map { $0 == 0 ? nil : $0 }
        }

        func percentileList() throws -> [Double] {
            guard percentiles.values.allSatisfy({ (0...100).contains($0) }) else {
                throw ValidationError("--percentiles must list numbers from 0 to 100, e.g. 50,90,99")
            }
            return percentiles.values
        }

        func run() async throws {
            guard let base = URL(string: endpoint) else { throw ValidationError("invalid --endpoint") }
            _ = Redaction.url(base)  // registers credentials in the URL, so echoes of them are masked too
            let server = OpenAIServer(baseURL: base, model: model, timeout: timeout)
            let counter = try tokenizer.map { try CausalTokenizer(loading: URL(fileURLWithPath: $0)) }
            let requests: [ServingWorkload.Request]
            if let randomInputLen, let counter {
                requests = try ServingPrompts.random(count: numPrompts, inputLength: randomInputLen, outputLength: outputLen, tokenizer: counter, seed: seed)
            } else if let prompts {
                requests = try ServingPrompts.file(URL(fileURLWithPath: prompts), count: numPrompts, outputLength: outputLen, tokenizer: counter)
            } else {
                throw ValidationError("give either --prompts FILE or --random-input-len N")
            }
            try await ServingBench.prepare(server, first: requests[0], api: api.api, ignoreEOS: ignoreEos, warmup: warmup)
            let objectives = try goodput.map { try ServingObjectives(parsing: $0) } ?? ServingObjectives()
            let percentiles = try percentileList()
            let progress = TerminalProgress()
            var results: [Row] = []
            var tables: [(String, ServingMetrics, String)] = []
            for rate in try rates() {
                for concurrency in try concurrencies() {
                    let label = "rate \(rate.isFinite ? String(format: "%g", rate) : "inf") · concurrency \(concurrency.map(String.init) ?? "∞")"
                    let workload = ServingWorkload(requests: requests, requestRate: rate, burstiness: burstiness, maxConcurrency: concurrency,
                                                   ignoreEOS: ignoreEos, api: api.api, seed: seed)
                    let measured = try await ServingBench.measure(workload, on: server, tokenizer: counter, percentiles: percentiles,
                                                                  objectives: objectives) { done, total in
                        progress.update(evaluation: label, completed: done, total: total, detail: "requests")
                    }
                    results.append(row(measured.metrics, run: measured.run, rate: rate, concurrency: concurrency, source: measured.tokenSource,
                                       objectives: objectives))
                    tables.append((label, measured.metrics, measured.tokenSource))
                    for failure in measured.run.outcomes.compactMap(\.error).prefix(3) { Terminal.warning("a request failed: \(failure)") }
                }
            }
            switch format {
            case .json:
                try JSONOutput.print(results)
            case .md:
                Terminal.output(ServingTable.markdown(tables, endpoint: Redaction.url(URL(string: endpoint)!), model: model))
            }
        }

        func row(_ metrics: ServingMetrics, run: ServingRun, rate: Double, concurrency: Int?, source: String, objectives: ServingObjectives) -> Row {
            Row(endpoint: Redaction.url(URL(string: endpoint)!), model: model, numPrompts: numPrompts, rate: rate, burstiness: burstiness, concurrency: concurrency,
                outputLen: outputLen, ignoreEOS: ignoreEos, source: source, seed: seed, api: api.rawValue, randomInputLen: randomInputLen,
                goodput: goodput, metrics: metrics, run: run, detailed: detailed)
        }

        /// One `--format json` row: vLLM `benchmark_serving`'s result keys (`--save-detailed` adds
        /// the per-request arrays) and Assay's own (`output_tokens_from`, `harness_overhead_pct`,
        /// `client_cpu_pct`: the client's CPU time over the run's wall time, 100 = one core busy).
        struct Row: Encodable {
            var endpoint, model: String
            var numPrompts: Int
            var rate, burstiness: Double
            var concurrency: Int?
            var outputLen: Int
            var ignoreEOS: Bool
            var source: String
            var seed: UInt64
            var api: String
            var randomInputLen: Int?
            var goodput: String?
            var metrics: ServingMetrics
            var run: ServingRun
            var detailed: Bool

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: JSONKey.self)
                try c.encode(endpoint, "endpoint")
                try c.encode(model, "model_id")
                try c.encode(numPrompts, "num_prompts")
                if rate.isFinite { try c.encode(rate, "request_rate") } else { try c.encode("inf", "request_rate") }
                try c.encode(burstiness, "burstiness")
                try c.encode(concurrency, "max_concurrency")
                try c.encode(outputLen, "output_len")
                try c.encode(ignoreEOS, "ignore_eos")
                try c.encode(source, "output_tokens_from")
                try c.encode(seed, "seed")
                try c.encode(api, "api")
                try c.encode(AssayVersion.current, "assay_version")
                if let randomInputLen { try c.encode(randomInputLen, "random_input_len") }
                if let goodput { try c.encode(goodput, "goodput_objectives") }
                for (key, value) in metrics.fields { try c.encode(value, key) }
                let client = run.outcomes.reduce(0) { $0 + $1.clientSeconds }
                let measured = run.outcomes.filter(\.success).reduce(0) { $0 + $1.latencySeconds }
                try c.encode(measured > 0 ? 100 * client / measured : nil, "harness_overhead_pct")
                try c.encode(run.durationSeconds > 0 ? 100 * run.clientCPUSeconds / run.durationSeconds : nil, "client_cpu_pct")
                if detailed {
                    try c.encode(run.outcomes.map(\.promptTokens), "input_lens")
                    try c.encode(metrics.outputTokens, "output_lens")
                    try c.encode(run.outcomes.map(\.ttftSeconds), "ttfts")
                    try c.encode(run.outcomes.map(\.latencySeconds), "e2els")
                    try c.encode(run.outcomes.map(\.interTokenSeconds), "itls")
                    try c.encode(run.outcomes.map { $0.error ?? "" }, "errors")
                    try c.encode(run.outcomes.map(\.text), "generated_texts")
                }
            }
        }
    }
}
