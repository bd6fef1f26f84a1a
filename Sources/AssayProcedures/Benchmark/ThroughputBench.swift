import AssayCore
import AssayStats
import AssayTensor
import AssayModels
import Foundation

/// One llama-bench test: prompt processing (`pp512`: `prompt` tokens in one batch from an empty
/// cache) or token generation (`tg64`: `generate` tokens one at a time from an empty cache), on
/// `threads` threads.
public struct ThroughputTest: Sendable, Hashable, Codable {
    public var prompt: Int
    public var generate: Int
    public var threads: Int

    public init(prompt: Int, generate: Int, threads: Int) {
        self.prompt = prompt
        self.generate = generate
        self.threads = threads
    }

    /// llama-bench's name: `pp512`, `tg64`, or `pp512+tg64`.
    public var name: String {
        switch (prompt, generate) {
        case (_, 0): "pp\(prompt)"
        case (0, _): "tg\(generate)"
        default: "pp\(prompt)+tg\(generate)"
        }
    }

    /// Tokens the test counts for tokens/s (llama-bench: n_prompt + n_gen).
    public var tokens: Int { prompt + generate }
}

/// One repetition's timings.
public struct ThroughputSample: Sendable, Equatable, Codable {
    /// The whole test, tokenization and sampling excluded (there are none: tokens are random ids).
    public var nanoseconds: UInt64
    /// Generation tests: from the start to the first generated token.
    public var timeToFirstTokenNanoseconds: UInt64?
    /// Generation tests: between consecutive generated tokens.
    public var interTokenNanoseconds: [UInt64]

    /// Tokens per second for `tokens` tokens.
    public func tokensPerSecond(_ tokens: Int) -> Double { Double(tokens) / (Double(nanoseconds) / 1e9) }
}

/// Runs llama-bench-style tests on the in-process engine, as llama-bench defines them: the prompt
/// is `prompt` random token ids (seeded) processed in one batch with logits for its last position
/// only; generation decodes `generate` tokens one by one (a random id each step, no sampling) from
/// the cache, starting from BOS; the clock covers exactly that work.
public enum ThroughputBench {
    /// One repetition of `test` on `model`.
    public static func run(_ test: ThroughputTest, model: LlamaModel, bos: Int?, seed: UInt64) -> ThroughputSample {
        // The test's threads for this repetition only: a suite's later evaluations keep theirs.
        let threads = BLAS.threads
        BLAS.threads = test.threads
        defer { BLAS.threads = threads }
        var cache = LlamaModel.KVCache(for: model)
        return measure(test, vocabulary: model.configuration.vocabulary, bos: bos, seed: seed,
                       prefill: { prompt in _ = model.forward(prompt, cache: &cache, outputRows: (prompt.count - 1)..<prompt.count) },
                       decode: { token in _ = model.forward([token], cache: &cache) })
    }

    /// The same repetition with a no-op model: what the harness itself costs (token ids, clock
    /// reads, bookkeeping), to compare with what it times.
    public static func harnessOverhead(_ test: ThroughputTest, vocabulary: Int, seed: UInt64) -> ThroughputSample {
        measure(test, vocabulary: vocabulary, bos: nil, seed: seed, prefill: { _ in }, decode: { _ in })
    }

    /// The timed procedure around a model's prefill and one-token decode.
    static func measure(_ test: ThroughputTest, vocabulary: Int, bos: Int?, seed: UInt64,
                        prefill: ([Int]) -> Void, decode: (Int) -> Void) -> ThroughputSample {
        var rng = SeededGenerator(seed: seed)
        let prompt = (0..<test.prompt).map { i in i == 0 && bos != nil ? bos! : rng.index(below: vocabulary) }
        var token = test.prompt == 0 ? (bos ?? rng.index(below: vocabulary)) : rng.index(below: vocabulary)
        var gaps: [UInt64] = []
        gaps.reserveCapacity(test.generate)
        let start = DispatchTime.now().uptimeNanoseconds
        if !prompt.isEmpty { prefill(prompt) }
        var ttft: UInt64?
        var last = start
        for _ in 0..<test.generate {
            decode(token)
            let now = DispatchTime.now().uptimeNanoseconds
            if ttft == nil { ttft = now - start } else { gaps.append(now - last) }
            last = now
            token = rng.index(below: vocabulary)
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return ThroughputSample(nanoseconds: end - start, timeToFirstTokenNanoseconds: ttft, interTokenNanoseconds: gaps)
    }
}

/// Facts about this process.
public enum ProcessStats {
    /// Peak resident set size in bytes (`getrusage`: KiB on Linux, bytes on macOS).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }

    /// CPU time this process has used, user and system, in seconds (`getrusage`).
    public static var cpuSeconds: Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// `model name` from /proc/cpuinfo (or `unknown`).
    public static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown" }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
