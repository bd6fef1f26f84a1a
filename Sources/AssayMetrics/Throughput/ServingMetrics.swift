import AssayStats
import Foundation

/// One request of a serving benchmark as the client saw it.
public struct ServingOutcome: Sendable, Equatable {
    public var success: Bool
    /// Why the request failed.
    public var error: String?
    /// Time to first token: from sending the request to the first streamed event with a choice.
    public var ttftSeconds: Double
    /// End-to-end latency: from sending the request to the last streamed event with a choice.
    public var latencySeconds: Double
    /// Gaps between consecutive events with a choice.
    public var interTokenSeconds: [Double]
    public var text: String
    /// Prompt tokens: the server's `usage.prompt_tokens`, else the local count, else unknown.
    public var promptTokens: Int?
    /// The server's `usage.completion_tokens`, when it reported one.
    public var completionTokens: Int?
    /// Events with a choice.
    public var chunks: Int
    /// Time the client itself spent handling the response while the clock ran.
    public var clientSeconds: Double = 0

    /// A request's outcome from its parts.
    public init(success: Bool, error: String? = nil, ttftSeconds: Double, latencySeconds: Double, interTokenSeconds: [Double],
                text: String, promptTokens: Int?, completionTokens: Int?, chunks: Int) {
        self.success = success
        self.error = error
        self.ttftSeconds = ttftSeconds
        self.latencySeconds = latencySeconds
        self.interTokenSeconds = interTokenSeconds
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.chunks = chunks
    }

    /// TPOT in seconds: (E2EL − TTFT) / (output tokens − 1); nil with one output token or fewer.
    public func timePerOutputToken(outputTokens: Int) -> Double? {
        outputTokens > 1 ? (latencySeconds - ttftSeconds) / Double(outputTokens - 1) : nil
    }

    /// A failed request.
    public init(error: String) {
        self.init(success: false, error: error, ttftSeconds: 0, latencySeconds: 0, interTokenSeconds: [], text: "",
                  promptTokens: nil, completionTokens: nil, chunks: 0)
    }
}

/// Latency objectives for goodput, in milliseconds (benchmark_serving's `--goodput ttft:… tpot:… e2el:…`).
public struct ServingObjectives: Sendable, Equatable {
    public var ttftMilliseconds: Double?
    public var tpotMilliseconds: Double?
    public var e2elMilliseconds: Double?

    /// Objectives; nil ones are not checked.
    public init(ttftMilliseconds: Double? = nil, tpotMilliseconds: Double? = nil, e2elMilliseconds: Double? = nil) {
        self.ttftMilliseconds = ttftMilliseconds
        self.tpotMilliseconds = tpotMilliseconds
        self.e2elMilliseconds = e2elMilliseconds
    }

    /// Whether any objective is set.
    public var isEmpty: Bool { ttftMilliseconds == nil && tpotMilliseconds == nil && e2elMilliseconds == nil }

    /// Parses `ttft:500,tpot:50` (also space-separated), milliseconds.
    /// - Throws: `MetricsError.invalidOption` naming the bad part.
    public init(parsing text: String) throws {
        self.init()
        for part in text.split(whereSeparator: { $0 == "," || $0 == " " }) where !part.isEmpty {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2, let value = Double(pieces[1]), value >= 0, value.isFinite else {
                throw MetricsError.invalidOption(name: "goodput", value: String(part), reason: "not NAME:MILLISECONDS (e.g. ttft:500,tpot:50)")
            }
            switch pieces[0] {
            case "ttft": ttftMilliseconds = value
            case "tpot": tpotMilliseconds = value
            case "e2el": e2elMilliseconds = value
            default: throw MetricsError.invalidOption(name: "goodput", value: String(part), reason: "'\(pieces[0])' is not an objective (ttft, tpot and e2el are)")
            }
        }
    }
}

/// A latency's distribution in milliseconds: mean, median, population standard deviation (NumPy's
/// `np.std`) and percentiles with linear interpolation (`np.percentile`).
public struct LatencySummary: Sendable, Equatable {
    public var mean: Double
    public var median: Double
    public var std: Double
    /// (percentile, value) in the order asked for.
    public var percentiles: [(Double, Double)]

    public static func == (a: Self, b: Self) -> Bool {
        a.mean == b.mean && a.median == b.median && a.std == b.std
            && a.percentiles.map(\.0) == b.percentiles.map(\.0) && a.percentiles.map(\.1) == b.percentiles.map(\.1)
    }

    /// The summary of `seconds` in milliseconds; nil for no values.
    public init?(seconds: [Double], percentiles: [Double]) {
        guard !seconds.isEmpty else { return nil }
        let ms = seconds.map { $0 * 1000 }.sorted()
        mean = ms.reduce(0, +) / Double(ms.count)
        let m = mean
        std = (ms.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(ms.count)).squareRoot()
        median = Summary.percentile(sorted: ms, 50)!
        self.percentiles = percentiles.map { ($0, Summary.percentile(sorted: ms, $0)!) }
    }
}

/// The numbers of a serving benchmark with vLLM benchmark_serving's definitions
/// (`calculate_metrics`): over successful requests, TTFT, E2EL (latency), TPOT = (latency − TTFT)
/// / (output tokens − 1) for requests with more than one output token, ITL = every gap between
/// streamed events; throughputs divide by the benchmark's wall time; goodput counts requests that
/// meet every objective (a one-token request's TPOT counts as 0 there).
///
/// Differences, on purpose: an empty sample gives nil, not benchmark_serving's 0; the E2EL mean
/// and median are not swapped (older benchmark_serving versions print them swapped).
public struct ServingMetrics: Sendable, Equatable {
    public var completed: Int
    public var failed: Int
    public var totalInputTokens: Int
    public var totalOutputTokens: Int
    public var durationSeconds: Double
    public var requestThroughput: Double
    /// Requests per second that met every objective; nil without objectives.
    public var requestGoodput: Double?
    public var outputThroughput: Double
    public var totalTokenThroughput: Double
    public var ttft: LatencySummary?
    public var tpot: LatencySummary?
    public var itl: LatencySummary?
    public var e2el: LatencySummary?
    /// Output tokens per request (as counted, 0 for failures), in order.
    public var outputTokens: [Int]
    /// The percentiles reported.
    public var percentiles: [Double]

    /// Computes the metrics.
    /// - Parameters:
    ///   - outcomes: every request, failures included.
    ///   - outputTokens: each request's output tokens (the server's usage, or a count of its text);
    ///     ignored for failed requests.
    ///   - durationSeconds: the benchmark's wall time.
    ///   - percentiles: which percentiles to report (e.g. 50, 90, 99).
    ///   - objectives: goodput objectives.
    public init(outcomes: [ServingOutcome], outputTokens: [Int], durationSeconds: Double, percentiles: [Double],
                objectives: ServingObjectives = ServingObjectives()) {
        precondition(outcomes.count == outputTokens.count, "one output count per request")
        var ttfts: [Double] = [], tpots: [Double] = [], itls: [Double] = [], e2els: [Double] = []
        var input = 0, output = 0, good = 0
        self.outputTokens = []
        for (outcome, tokens) in zip(outcomes, outputTokens) {
            guard outcome.success else { self.outputTokens.append(0); continue }
            self.outputTokens.append(tokens)
            input += outcome.promptTokens ?? 0
            output += tokens
            let measured = outcome.timePerOutputToken(outputTokens: tokens)
            if let measured { tpots.append(measured) }
            let tpot = measured ?? 0
            itls += outcome.interTokenSeconds
            ttfts.append(outcome.ttftSeconds)
            e2els.append(outcome.latencySeconds)
            let meets = [(objectives.ttftMilliseconds, outcome.ttftSeconds), (objectives.tpotMilliseconds, tpot),
                         (objectives.e2elMilliseconds, outcome.latencySeconds)]
                .allSatisfy { objective, value in objective.map { value <= $0 / 1000 } ?? true }
            if meets { good += 1 }
        }
        completed = ttfts.count
        failed = outcomes.count - completed
        totalInputTokens = input
        totalOutputTokens = output
        self.durationSeconds = durationSeconds
        requestThroughput = Double(completed) / durationSeconds
        requestGoodput = objectives.isEmpty ? nil : Double(good) / durationSeconds
        outputThroughput = Double(output) / durationSeconds
        totalTokenThroughput = Double(input + output) / durationSeconds
        ttft = LatencySummary(seconds: ttfts, percentiles: percentiles)
        tpot = LatencySummary(seconds: tpots, percentiles: percentiles)
        itl = LatencySummary(seconds: itls, percentiles: percentiles)
        e2el = LatencySummary(seconds: e2els, percentiles: percentiles)
        self.percentiles = percentiles
    }

    /// benchmark_serving's result keys: `completed`, `request_throughput`, `mean_ttft_ms`,
    /// `median_tpot_ms`, `std_itl_ms`, `p99_e2el_ms`, … (nil values as JSON null).
    public var fields: [(String, Double?)] {
        var fields: [(String, Double?)] = [
            ("duration", durationSeconds), ("completed", Double(completed)), ("failed", Double(failed)),
            ("total_input_tokens", Double(totalInputTokens)), ("total_output_tokens", Double(totalOutputTokens)),
            ("request_throughput", requestThroughput), ("request_goodput", requestGoodput),
            ("output_throughput", outputThroughput), ("total_token_throughput", totalTokenThroughput),
        ]
        for (name, summary) in [("ttft", ttft), ("tpot", tpot), ("itl", itl), ("e2el", e2el)] {
            fields.append(("mean_\(name)_ms", summary?.mean))
            fields.append(("median_\(name)_ms", summary?.median))
            fields.append(("std_\(name)_ms", summary?.std))
            for (index, p) in percentiles.enumerated() {
                fields.append(("p\(Self.percentileName(p))_\(name)_ms", summary?.percentiles[index].1))
            }
        }
        return fields
    }

    /// `99` → "99", `99.9` → "99.9" (benchmark_serving's `p99.9_ttft_ms`).
    public static func percentileName(_ p: Double) -> String {
        p == p.rounded() ? String(Int(p)) : String(p)
    }
}
