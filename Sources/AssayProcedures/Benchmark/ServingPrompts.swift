import AssayCore
import AssayStats
import AssayModels
import Foundation

/// Prompts for a serving benchmark.
public enum ServingPrompts {
    /// benchmark_serving's `random` dataset: request `i` decodes the ids `(offset + i + j) mod V`,
    /// `j < inputLength`, from a seeded random offset — here skipping special tokens, so that no
    /// prompt contains control text such as `<|im_start|>` — and re-encodes the text to
    /// `inputLength` tokens (``toLength(_:_:tokenizer:ordinary:rng:)``). The local tokenizer's count of each
    /// prompt (with BOS when the vocabulary adds it) is kept for servers that report no usage.
    /// - Throws: ``ProcedureError/missingCapability(model:what:hint:)`` when the vocabulary has only special tokens.
    public static func random(count: Int, inputLength: Int, outputLength: Int, tokenizer: CausalTokenizer, seed: UInt64) throws -> [ServingWorkload.Request] {
        precondition(count > 0 && inputLength > 0 && outputLength > 0, "count and lengths must be positive")
        let special = tokenizer.specialTokenIDs
        let ordinary = (0..<tokenizer.vocabularySize).filter { !special.contains($0) }
        guard !ordinary.isEmpty else {
            throw ProcedureError.missingCapability(model: tokenizer.name, what: "the vocabulary has no ordinary tokens to build random prompts from",
                                                   hint: "use --prompts FILE, or the served model's own tokenizer")
        }
        var rng = SeededGenerator(seed: seed)
        // Every request's offset first, as benchmark_serving draws them; the tokens that lengthen a
        // prompt come from a generator of their own, so they move no other request's offset.
        let offsets = (0..<count).map { _ in rng.index(below: ordinary.count) }
        var extra = SeededGenerator(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        return (0..<count).map { i in
            let prompt = toLength(inputLength, (0..<inputLength).map { ordinary[(offsets[i] + i + $0) % ordinary.count] },
                                  tokenizer: tokenizer, ordinary: ordinary, rng: &extra)
            return ServingWorkload.Request(prompt: prompt, maxTokens: outputLength,
                                           promptTokens: tokenizer.encode(prompt, addSpecial: true, parseSpecial: false).count)
        }
    }

    /// The text of `ids`, brought to `length` tokens as benchmark_serving's
    /// `gen_prompt_decode_to_target_len` does: consecutive ids decode to text that tokenizes
    /// differently (`Ġcalls here` → `Ġcall sh ere`), so the text is encoded again and cut to
    /// `length`, or extended by random ordinary tokens, up to ten times; the last text is kept.
    static func toLength(_ length: Int, _ ids: [Int], tokenizer: CausalTokenizer, ordinary: [Int], rng: inout SeededGenerator) -> String {
        var ids = ids
        var prompt = tokenizer.decode(ids)
        for _ in 0..<10 {
            ids = tokenizer.encode(prompt, addSpecial: false, parseSpecial: false)
            if ids.count == length { break }
            if ids.count > length {
                ids.removeLast(ids.count - length)
            } else {
                for _ in ids.count..<length { ids.append(ordinary[rng.index(below: ordinary.count)]) }
            }
            prompt = tokenizer.decode(ids)
        }
        return prompt
    }

    /// Prompts from a file: one per non-empty line, or with a `.jsonl` extension one JSON object
    /// per line with the prompt in `"prompt"`; the first `count` (the file repeated when shorter).
    /// - Throws: `ProcedureError.unreadableText`, `.malformedDocument` (with the line) or `.emptyDocument`.
    public static func file(_ url: URL, count: Int, outputLength: Int, tokenizer: CausalTokenizer?) throws -> [ServingWorkload.Request] {
        precondition(count > 0 && outputLength > 0, "count and length must be positive")
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ProcedureError.unreadableText(path: url.path, reason: error.localizedDescription) }
        let text: String
        switch UTF8Text.decode(data) {
        case let .success(decoded): text = decoded
        case let .failure(invalid): throw ProcedureError.unreadableText(path: url.path, reason: "the file is \(invalid)")
        }
        var prompts: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            if url.pathExtension == "jsonl" {
                let object: [String: Any]
                do { object = try JSONLine.object(trimmed) } catch {
                    throw ProcedureError.malformedDocument(path: url.path, line: index + 1, message: error.message + "; expected a JSON object with a non-empty string \"prompt\"")
                }
                guard let prompt = object["prompt"] as? String, !prompt.isEmpty else {
                    throw ProcedureError.malformedDocument(path: url.path, line: index + 1, message: "expected a JSON object with a non-empty string \"prompt\"")
                }
                prompts.append(prompt)
            } else {
                prompts.append(String(line.hasSuffix("\r") ? line.dropLast() : line))
            }
        }
        guard !prompts.isEmpty else { throw ProcedureError.emptyDocument(path: url.path, line: nil) }
        return (0..<count).map { i in
            let prompt = prompts[i % prompts.count]
            return ServingWorkload.Request(prompt: prompt, maxTokens: outputLength,
                                           promptTokens: tokenizer?.encode(prompt, addSpecial: true, parseSpecial: false).count)
        }
    }
}
