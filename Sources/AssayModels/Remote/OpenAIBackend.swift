import Foundation

/// ``LanguageModelBackend`` over an OpenAI-compatible server: generation through streamed
/// `/v1/completions`, tokenization through the servers' own tokenize endpoints (`/tokenize` of
/// llama-server and vLLM, `/extras/tokenize` of llama-cpp-python), scoring through the prompt's
/// echoed log-probabilities (RemoteScoring.swift: perplexity of a served model).
public struct OpenAIBackend: LanguageModelBackend {
    public let server: OpenAIServer
    /// What scoring learnt about the server (token-id prompts, llama-cpp-python, BOS).
    let scoring = ScoringState()

    /// A backend on `server`.
    public init(server: OpenAIServer) { self.server = server }

    public var name: String { "\(server.model) at \(server.baseURL.absoluteString) (OpenAI-compatible)" }

    /// The server's root (the base URL without its trailing `/v1`), where tokenize endpoints live.
    var root: URL {
        server.baseURL.lastPathComponent == "v1" ? server.baseURL.deletingLastPathComponent() : server.baseURL
    }

    public func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) async throws -> [Int] {
        // llama-server: content/add_special/parse_special; vLLM: model/prompt/add_special_tokens.
        let common: [String: Any] = ["content": text, "add_special": addSpecial, "parse_special": parseSpecial,
                                     "model": server.model, "prompt": text, "add_special_tokens": addSpecial]
        var attempts: [(String, [String: Any])] = [("tokenize", common), ("extras/tokenize", ["input": text, "model": server.model])]
        if scoring.isLlamaCppPython == true { attempts.reverse() }  // no 404 first each time
        let (object, path) = try await firstAnswer(attempts, what: "tokenization")
        scoring.isLlamaCppPython = path == "extras/tokenize"
        guard let tokens = object["tokens"] as? [Any] else {
            throw ModelError.serverProtocol(url: root.absoluteString, message: "the tokenize answer has no \"tokens\" list")
        }
        // llama-server may answer [{"id": …, "piece": …}] when asked for pieces; ids otherwise.
        let ids = try tokens.map { token in
            if let id = ServerValue.count(token) ?? ServerValue.count((token as? [String: Any])?["id"]) { return id }
            throw ModelError.serverProtocol(url: root.absoluteString, message: "a token in the tokenize answer is \(token), not a token id (a whole number from 0)")
        }
        // llama-cpp-python's /extras/tokenize always adds what the vocabulary adds: take BOS off
        // when no special tokens were asked for.
        if path == "extras/tokenize", !addSpecial, let bos = try await serverBOS(), ids.first == bos {
            return Array(ids.dropFirst())
        }
        return ids
    }

    public func detokenize(_ tokens: [Int]) async throws -> String {
        var attempts: [(String, [String: Any])] = [("detokenize", ["tokens": tokens, "model": server.model]), ("extras/detokenize", ["tokens": tokens])]
        if scoring.isLlamaCppPython == true { attempts.reverse() }
        let (object, _) = try await firstAnswer(attempts, what: "detokenization")
        guard let text = (object["content"] ?? object["prompt"] ?? object["text"]) as? String else {
            throw ModelError.serverProtocol(url: root.absoluteString, message: "the detokenize answer has no text")
        }
        return text
    }

    /// Generates with the server's sampler: temperature, top-k, top-p and seed are sent as they
    /// are (temperature 0 is greedy on every server); the template is applied here. A finish reason
    /// "stop" reads as `.stop` when stop strings were given, else `.eos`. Token ids are
    /// not returned by the API: `tokens` stays empty and `reportedTokenCount` holds the server's
    /// usage count, or the number of streamed events when it sends none.
    public func generate(_ prompt: String, parameters: GenerationParameters) async throws -> Generation {
        let sampling = parameters.sampling
        var request = CompletionRequest(prompt: parameters.apply(to: prompt), maxTokens: parameters.maxTokens,
                                        temperature: sampling.temperature, stop: parameters.stop,
                                        seed: sampling.temperature == 0 ? nil : sampling.seed)
        request.plainSampling = true
        if sampling.temperature > 0 {
            request.topK = sampling.topK
            request.topP = sampling.topP
        }
        let completion = try await server.streamCompletion(request)
        let times = completion.choiceNanoseconds.map { Double($0) / 1e9 }
        // OpenAI's "stop" covers both the end-of-sequence token and a stop string.
        let finish: FinishReason = completion.finishReason == "length" ? .length : parameters.stop.isEmpty ? .eos : .stop
        var generation = Generation(text: completion.text, tokens: [], promptTokens: [], finishReason: finish,
                                    promptSeconds: times.first ?? 0, tokenSeconds: zip(times.dropFirst(), times).map { $0 - $1 })
        // The final event of a stream usually carries no text (only the finish reason).
        generation.reportedTokenCount = completion.completionTokens
            ?? completion.choiceNanoseconds.count - (completion.finishReason != nil && completion.choiceNanoseconds.count > 1 ? 1 : 0)
        return generation
    }

    /// POSTs to each endpoint in turn until one answers (a 404 means "not this server"); its JSON
    /// object and the path that answered.
    func firstAnswer(_ attempts: [(String, [String: Any])], what: String) async throws -> ([String: Any], String) {
        var tried: [String] = []
        for (path, body) in attempts {
            let url = root.appendingPathComponent(path)
            tried.append(url.absoluteString)
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            do {
                let answer = try await server.send(try server.request(url, method: "POST", body: data))
                guard let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else {
                    throw ModelError.serverProtocol(url: url.absoluteString, message: "the answer is not a JSON object")
                }
                return (object, path)
            } catch ModelError.serverStatus(_, 404, _), ModelError.serverStatus(_, 405, _) {
                continue
            }
        }
        throw ModelError.unsupportedRemote(url: tried.joined(separator: ", "), what: what)
    }
}
