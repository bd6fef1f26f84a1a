import Foundation

/// Token scoring over HTTP: the prompt's own log-probabilities as OpenAI's legacy completions API
/// returns them (`echo: true` with `logprobs`, one token generated greedily), which vLLM and
/// llama-cpp-python implement. lm-evaluation-harness's `local-completions` model asks the same way.
///
/// What comes back is checked before it is used: `usage` counts the prompt tokens sent, and the
/// values are one per prompt token (the first null) plus one per generated token — how they line
/// up with the prompt follows from those counts; every scored value finite and ≤ 0; the first
/// generated (greedy) token's log-probability the largest of its row.
/// Two servers' quirks are handled by name:
/// - a server that takes no token ids as the prompt (llama-cpp-python) gets the text of the tokens,
///   after checking that its tokenizer gives back the very same ids;
/// - llama-cpp-python drops a leading BOS from the echoed tokens (and nulls the next one), and
///   without a leading BOS its values are shifted by one position (abetlen/llama-cpp-python#1983):
///   such prompts are refused with what to do instead.
extension OpenAIBackend {
    /// What was learnt about the server's scoring, kept for the backend's life.
    final class ScoringState: @unchecked Sendable {
        private let lock = NSLock()
        private var _acceptsTokenIDs: Bool?
        private var _isLlamaCppPython: Bool?
        private var _addedBOS: Int??
        private var _textIDs: [String: Int?] = [:]

        var acceptsTokenIDs: Bool? {
            get { lock.withLock { _acceptsTokenIDs } }
            set { lock.withLock { _acceptsTokenIDs = newValue } }
        }
        /// Answers `/extras/tokenize` (llama-cpp-python's path) rather than `/tokenize`.
        var isLlamaCppPython: Bool? {
            get { lock.withLock { _isLlamaCppPython } }
            set { lock.withLock { _isLlamaCppPython = newValue } }
        }
        /// The token the server's tokenizer puts first (nil inside: none); nil: not asked yet.
        var addedBOS: Int?? {
            get { lock.withLock { _addedBOS } }
            set { lock.withLock { _addedBOS = newValue } }
        }
        /// Token ids of top-k entries named by text, as resolved (nil inside: names no single token).
        func textID(_ text: String) -> Int?? { lock.withLock { _textIDs[text] } }
        func setTextID(_ text: String, _ id: Int?) { lock.withLock { _textIDs[text] = .some(id) } }
    }

    /// The served model's tokenizer name, BOS and trained length, after a capability probe: a
    /// short prompt scored the way perplexity scores it.
    /// - Throws: ``ModelError/serverCannotScore(url:missing:fix:)`` naming what the server lacks.
    public func scoringFacts() async throws -> ScoringFacts {
        let bos = try await serverBOS()
        var trained: Int?
        if let body = try? await server.send(try server.request(server.baseURL.appendingPathComponent("models"), method: "GET", body: nil)),
           let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let entries = object["data"] as? [[String: Any]],
           let entry = entries.first(where: { $0["id"] as? String == server.model }) {
            // vLLM reports the context it serves; a scored prompt needs one more for the generated token.
            if let served = try ServerValue.optionalCount(entry["max_model_len"], field: "max_model_len of model \(server.model) in /v1/models",
                                                          url: root.absoluteString) {
                guard served >= 2 else {
                    throw ModelError.serverProtocol(url: root.absoluteString, message: "max_model_len of model \(server.model) in /v1/models is \(served): no prompt fits")
                }
                trained = served - 1
            }
        }
        let probe = try await tokenize("The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.",
                                       addSpecial: true, parseSpecial: false)
        guard probe.count >= 4 else {
            throw ModelError.serverProtocol(url: root.absoluteString, message: "the tokenizer gave \(probe.count) tokens for a 20-word sentence")
        }
        _ = try await scoreTokens(probe, from: 1, options: ScoreOptions())
        return ScoringFacts(tokenizerName: "served:\(server.model)", vocabulary: 0, bos: bos, eos: nil, addedBOS: bos,
                            trainedContext: trained, numerics: nil)
    }

    /// The BOS the server's tokenizer adds (the tokens of the empty text), asked once.
    func serverBOS() async throws -> Int? {
        if let known = scoring.addedBOS { return known }
        let empty = try await tokenize("", addSpecial: true, parseSpecial: false)
        let bos = empty.count == 1 ? empty[0] : nil
        scoring.addedBOS = .some(bos)
        return bos
    }

    public func scoreTokens(_ tokens: [Int], from start: Int, options: ScoreOptions) async throws -> TokenScores {
        let url = server.baseURL.appendingPathComponent("completions")
        if options.fullRows {
            throw ModelError.serverCannotScore(url: url.absoluteString, missing: "full log-probability rows (servers return the top k only)",
                                               fix: "run the model in-process for KL divergence, or score perplexity only")
        }
        let n = tokens.count
        precondition(start >= 0 && start <= n - 1 && n >= 2, "nothing to score")
        let bos = try await serverBOS()
        let startsWithBOS = bos != nil && tokens.first == bos
        if scoring.isLlamaCppPython == true, !startsWithBOS {
            throw ModelError.serverCannotScore(
                url: url.absoluteString,
                missing: "llama-cpp-python (it answers /extras/tokenize) shifts echoed log-probabilities by one position when the prompt does not begin with BOS (abetlen/llama-cpp-python#1983), and this model adds no BOS",
                fix: "start the server with --kv_overrides tokenizer.ggml.add_bos_token=bool:true (every prompt then begins with BOS: the numbers are those of BOS-prefixed text), or serve the model with vLLM")
        }
        if scoring.isLlamaCppPython == true, start == 0 {
            throw Self.firstAfterBOS(url)
        }
        var payload: [String: Any] = [
            "model": server.model, "max_tokens": 1, "temperature": 0, "echo": true, "logprobs": max(1, options.topK),
            // A plain greedy choice, so that the generated token is its row's top: llama.cpp's
            // servers' penalties, and vLLM's (which may come from the model's generation_config).
            "repeat_penalty": 1.0, "min_p": 0.0, "repetition_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0,
        ]
        // vLLM then echoes the prompt as `token_id:N`, checked against the tokens sent (and names
        // the top-k by id); other servers ignore it.
        payload["return_tokens_as_token_ids"] = true
        let object = try await completion(payload, tokens: tokens, startsWithBOS: startsWithBOS, url: url)
        guard let choices = object["choices"] as? [[String: Any]], let logprobs = choices.first?["logprobs"] as? [String: Any],
              let values = logprobs["token_logprobs"] as? [Any] else {
            throw ModelError.serverCannotScore(url: url.absoluteString, missing: "the answer has no choices[0].logprobs.token_logprobs (no prompt log-probabilities)",
                                               fix: "serve the model with vLLM or llama-cpp-python (logits_all, its default)")
        }
        // The counts in `usage` say how the values line up with the prompt: one per prompt token
        // (llama-cpp-python leaves out a leading BOS) and one per generated token, which may be
        // none (an end-of-generation token) or two (llama-cpp-python completing a UTF-8 character).
        let usage = object["usage"] as? [String: Any]
        guard let promptTokens = try ServerValue.optionalCount(usage?["prompt_tokens"], field: "usage.prompt_tokens", url: url.absoluteString),
              let generatedTokens = try ServerValue.optionalCount(usage?["completion_tokens"], field: "usage.completion_tokens", url: url.absoluteString)
        else {
            throw ModelError.serverProtocol(url: url.absoluteString,
                                            message: "the answer has no usage.prompt_tokens and usage.completion_tokens, which say how the log-probabilities line up with the prompt")
        }
        guard promptTokens == n else {
            throw ModelError.serverCannotScore(
                url: url.absoluteString, missing: "it ran \(promptTokens) prompt tokens for the \(n) it was given (it adds or replaces special tokens)",
                fix: "serve the model with vLLM, which takes token ids as they are")
        }
        let offset: Int
        switch n + generatedTokens - values.count {
        case 0: offset = 0
        case 1 where startsWithBOS && scoring.isLlamaCppPython == true: offset = 1
        default:
            throw ModelError.serverCannotScore(
                url: url.absoluteString,
                missing: "\(values.count) log-probabilities came back for \(n) prompt tokens and \(generatedTokens) generated, so they cannot be matched to the prompt",
                fix: "serve the model with vLLM")
        }
        if let echoed = logprobs["tokens"] as? [Any] { try Self.checkEchoed(echoed, against: tokens, offset: offset, url: url) }
        let top = logprobs["top_logprobs"] as? [Any]
        func value(_ index: Int) throws -> Double? {
            guard !(values[index] is NSNull) else { return nil }
            guard let number = ServerValue.number(values[index]), number.isFinite, number <= 1e-4 else {
                throw ModelError.serverProtocol(url: url.absoluteString, message: "log-probability \(index) is \(values[index]), not a finite value ≤ 0")
            }
            // Up to 1e-4 above 0 is a server's rounding, taken as 0 (as the top-k values are): kept,
            // a run of them had given a perplexity below 1 (found by probing, 2026-12-07).
            return min(0, number)
        }
        // A second check: the first generated token was chosen greedily, so its log-probability
        // tops its row.
        let firstGenerated = n - offset
        if generatedTokens > 0, let generated = try value(firstGenerated), let top, firstGenerated < top.count,
           let row = top[firstGenerated] as? [String: Any] {
            let best = try row.map { key, value in
                guard let number = ServerValue.number(value), number.isFinite, number <= 1e-4 else {
                    throw ModelError.serverProtocol(url: url.absoluteString,
                                                    message: "top log-probability '\(key)' at position \(firstGenerated) is \(value), not a finite value ≤ 0")
                }
                return number
            }.max() ?? generated
            guard generated >= best - 1e-3 * max(1, abs(best)) else {
                throw ModelError.serverCannotScore(
                    url: url.absoluteString,
                    missing: "its log-probabilities are not aligned with the prompt (the greedily generated token has \(generated), its row's best is \(best))",
                    fix: "serve the model with vLLM; llama-cpp-python aligns them only when the prompt begins with BOS")
            }
        }
        var scores = TokenScores(logProbabilities: [], rows: nil, top: options.topK > 0 ? [] : nil)
        scores.logProbabilities.reserveCapacity(max(0, n - 1 - start))
        for j in start..<(n - 1) {
            // ln p(tokens[j + 1] | tokens[...j]) is the value echoed for prompt position j + 1.
            let index = j + 1 - offset
            guard let logProbability = try value(index) else {
                if offset == 1, j == 0 { throw Self.firstAfterBOS(url) }
                throw ModelError.serverProtocol(url: url.absoluteString, message: "log-probability \(index) (prompt position \(j + 1)) is null")
            }
            scores.logProbabilities.append(logProbability)
        }
        if options.topK > 0 {
            let ids = try await textIDs(in: top, positions: (start + 1 - offset)..<(n - offset), keep: options.topK + 1)
            var named = 0, total = 0
            for j in start..<(n - 1) {
                let row = try topTokens(top, j + 1 - offset, ids: ids, keep: options.topK + 1, url: url)
                named += row.filter { $0.token >= 0 }.count
                total += row.count
                scores.top?.append(row)
            }
            // A server whose texts mostly name no single token (a SentencePiece vocabulary, where
            // a piece reads with a leading space that tokenizes apart) would leave the bound blind.
            guard total == 0 || Double(named) >= 0.8 * Double(total) else {
                throw ModelError.serverCannotScore(
                    url: url.absoluteString,
                    missing: "top-k log-probabilities by token id: it names them by text, and only \(named) of \(total) texts map back to one token each",
                    fix: "serve the model with vLLM, which names them by id (return_tokens_as_token_ids)")
            }
        }
        return scores
    }

    /// The token ids of the top-k entries a server names by their text (llama-cpp-python, which
    /// has no `return_tokens_as_token_ids`), asked of its tokenizer once per text: a text that
    /// tokenizes to one token which detokenizes back to it. Texts that name no single token —
    /// empty, holding U+FFFD (a piece of a UTF-8 character: several byte tokens read alike), or
    /// not round-tripping — get none, and their entries are left out.
    func textIDs(in top: [Any]?, positions: Range<Int>, keep: Int) async throws -> [String: Int] {
        var texts = Set<String>()
        for index in positions {
            guard let top, index < top.count, let row = top[index] as? [String: Any] else { continue }
            for (key, _) in Self.mostLikely(row, keep) where !key.hasPrefix("token_id:") { texts.insert(key) }
        }
        var ids: [String: Int] = [:]
        for text in texts {
            if let known = scoring.textID(text) {
                if let id = known { ids[text] = id }
                continue
            }
            var id: Int?
            if !text.isEmpty, !text.contains("\u{FFFD}") {
                do {
                    let tokens = try await tokenize(text, addSpecial: false, parseSpecial: false)
                    if tokens.count == 1, try await detokenize(tokens) == text { id = tokens[0] }
                } catch ModelError.unsupportedRemote {
                    throw ModelError.serverCannotScore(
                        url: root.absoluteString,
                        missing: "top-k log-probabilities by token id: it names tokens by text ('\(text)') and has no tokenize and detokenize endpoints to map them",
                        fix: "serve the model with vLLM (which names them by id when asked) or llama-cpp-python")
                }
            }
            scoring.setTextID(text, id)
            if let id { ids[text] = id }
        }
        return ids
    }

    /// The echoed prompt, where the server names its tokens by id (vLLM's `token_id:N`), is the
    /// prompt sent: values echoed for other tokens are another text's, and had been scored as
    /// this one's (found by probing, 2026-12-07: a server echoing other tokens gave a perplexity
    /// of 2.72). Tokens echoed as text are not compared (a piece's text is not one token's).
    static func checkEchoed(_ echoed: [Any], against tokens: [Int], offset: Int, url: URL) throws {
        for index in 0..<min(echoed.count, tokens.count - offset) {
            guard let name = echoed[index] as? String, name.hasPrefix("token_id:") else { continue }
            let expected = tokens[index + offset]
            guard Int(name.dropFirst("token_id:".count)) == expected else {
                throw ModelError.serverCannotScore(
                    url: url.absoluteString,
                    missing: "its log-probabilities for the prompt sent: it echoed \(name.prefix(40)) at prompt position \(index + offset), where the prompt has token \(expected)",
                    fix: "serve the model the tokens were made for (the same tokenizer), with vLLM or llama-cpp-python")
            }
        }
    }

    /// llama-cpp-python gives the first token after BOS no value.
    static func firstAfterBOS(_ url: URL) -> ModelError {
        .serverCannotScore(url: url.absoluteString, missing: "the first token after BOS gets no log-probability (llama-cpp-python nulls it)",
                           fix: "use mode: chunked (it scores the second half of each chunk only), or serve the model with vLLM")
    }

    /// The `keep` entries of a top_logprobs row with the largest values (a server may send more
    /// than asked; more would only cost tokenizer requests).
    static func mostLikely(_ row: [String: Any], _ keep: Int) -> [(String, Any)] {
        row.map { ($0.key, $0.value) }
            .sorted { (ServerValue.number($0.1) ?? -.infinity, $1.0) > (ServerValue.number($1.1) ?? -.infinity, $0.0) }
            .prefix(keep).map { $0 }
    }

    /// The top log-probabilities at `index`, most likely first, at most `keep`: keyed `token_id:N`
    /// (vLLM's `return_tokens_as_token_ids`) or by text, resolved through `ids` — an entry whose
    /// text names no single token gets token −1 (it counts for no cell of the KLD bound, and a
    /// top token without an id agrees with nothing). Every value must be a finite log-probability
    /// ≤ 0, and no id may appear twice.
    func topTokens(_ top: [Any]?, _ index: Int, ids: [String: Int], keep: Int, url: URL) throws -> [(token: Int, logProbability: Double)] {
        guard let top, index < top.count, let row = top[index] as? [String: Any] else {
            throw ModelError.serverProtocol(url: url.absoluteString, message: "no top_logprobs at position \(index)")
        }
        var seen = Set<Int>()
        return try Self.mostLikely(row, keep).map { key, value -> (token: Int, logProbability: Double) in
            guard let number = ServerValue.number(value), number.isFinite, number <= 1e-4 else {
                throw ModelError.serverProtocol(url: url.absoluteString, message: "top log-probability '\(key)' at position \(index) is \(value), not a finite value ≤ 0")
            }
            var token = -1
            if key.hasPrefix("token_id:") {
                guard let id = Int(key.dropFirst("token_id:".count)), id >= 0 else {
                    throw ModelError.serverProtocol(url: url.absoluteString, message: "top log-probability key '\(key)' at position \(index) names no token id")
                }
                token = id
            } else if let id = ids[key] {
                token = id
            }
            if token >= 0, !seen.insert(token).inserted {
                throw ModelError.serverProtocol(url: url.absoluteString, message: "token \(token) appears twice among the top log-probabilities at position \(index)")
            }
            return (token, min(0, number))
        }.sorted { $0.logProbability > $1.logProbability || ($0.logProbability == $1.logProbability && $0.token < $1.token) }
    }

    /// POSTs the completion with `tokens` as the prompt: token ids where the server takes them,
    /// else their text, after checking that the server tokenizes it back to the same ids.
    func completion(_ payload: [String: Any], tokens: [Int], startsWithBOS: Bool, url: URL) async throws -> [String: Any] {
        var payload = payload
        if scoring.acceptsTokenIDs != false {
            payload["prompt"] = tokens
            do {
                let object = try await post(payload, url: url)
                scoring.acceptsTokenIDs = true
                return object
            } catch let ModelError.serverStatus(_, status, message)
                        where scoring.acceptsTokenIDs == nil && (status == 400 || status == 422 || (status == 500 && message.contains("validation error"))) {
                // The prompt refused on the first try (llama-cpp-python answers its validation
                // errors with 500): text from now on; an error of the text request is the one reported.
                scoring.acceptsTokenIDs = false
            }
        }
        // The server adds BOS to a text prompt itself.
        let body = startsWithBOS ? Array(tokens.dropFirst()) : tokens
        let text = try await detokenize(body)
        let again = try await tokenize(text, addSpecial: true, parseSpecial: true)
        if again != tokens {
            let position = zip(again, tokens).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(again.count, tokens.count)
            throw ModelError.serverCannotScore(
                url: url.absoluteString,
                missing: "it takes no token ids as the prompt, and its tokenizer does not give back the same tokens from their text (\(tokens.count) tokens, \(again.count) back; they differ from position \(position))",
                fix: "serve the model with vLLM, which takes token ids")
        }
        payload["prompt"] = text
        return try await post(payload, url: url)
    }

    func post(_ payload: [String: Any], url: URL) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        let answer = try await server.send(try server.request(url, method: "POST", body: data))
        guard let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else {
            throw ModelError.serverProtocol(url: url.absoluteString, message: "the answer is not a JSON object")
        }
        if let error = StreamedCompletion.reportedError(in: object) {
            throw ModelError.serverProtocol(url: url.absoluteString, message: "the server reported an error: \(StreamedCompletion.message(of: error))")
        }
        return object
    }
}
