import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An OpenAI-compatible server — vLLM, llama.cpp's `llama-server`, llama-cpp-python, TGI — at a
/// base URL ending in `/v1`, serving a model under a name.
///
/// Requests go to `/v1/completions` (the text-completion API, as vLLM's benchmark_serving
/// `openai` backend uses it) or `/v1/chat/completions` (its `openai-chat` backend: the prompt as
/// one user message, the server's chat template applied). Streaming responses are read as
/// server-sent events and every event is stamped with the monotonic time its last byte arrived,
/// before anything is parsed, so parsing never shows up in a latency.
public struct OpenAIServer: Sendable {
    /// The base URL, e.g. `http://127.0.0.1:8000/v1`.
    public let baseURL: URL
    /// The served model name sent as `model`.
    public let model: String
    /// Sent as `Authorization: Bearer …` when set (default: `$OPENAI_API_KEY`).
    public let apiKey: String?
    /// Seconds without a byte from the server before a request fails.
    public let timeout: TimeInterval
    /// How failed requests are repeated (HTTP 429 and 5xx, no answer).
    public let retry: RetryPolicy
    /// The retries made so far, for the report.
    public let retries = RetryLog()

    /// A server at `baseURL` serving `model`.
    public init(baseURL: URL, model: String, apiKey: String? = ProcessInfo.processInfo.environment["OPENAI_API_KEY"],
                timeout: TimeInterval = 600, retry: RetryPolicy = .standard) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.timeout = timeout
        self.retry = retry
    }

    /// Names the server lists at `/v1/models`.
    /// - Throws: `ModelError.serverUnreachable`, `.serverStatus` or `.serverProtocol`.
    public func servedModels() async throws -> [String] {
        let url = baseURL.appendingPathComponent("models")
        let body = try await send(try request(url, method: "GET", body: nil))
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let data = object["data"] as? [[String: Any]] else {
            // A web page or a proxy's answer says more by how it starts than by what it lacks.
            let start = String(decoding: body.prefix(60), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            let page = start.lowercased().contains("<html") || start.lowercased().contains("<!doctype")
            throw ModelError.serverProtocol(url: url.absoluteString, message: "/models did not return {\"data\": [{\"id\": …}]}"
                                            + (page ? "; it answered a web page (\"\(start)…\"): is the endpoint the API's base URL, ending in /v1?" : ""))
        }
        return data.compactMap { $0["id"] as? String }
    }

    /// Checks that the server is up and serves ``model``.
    /// - Throws: `ModelError.serverModelUnknown` with the served names, or a connection error.
    public func checkModel() async throws {
        let served = try await servedModels()
        // Strict even where a server would answer any name (llama-server, llama-cpp-python): a
        // misspelt name should not benchmark whatever happens to be loaded.
        guard served.contains(model) else {
            throw ModelError.serverModelUnknown(url: baseURL.absoluteString, model: model, served: served)
        }
    }

    /// Sends one streamed completion request and waits for the whole stream.
    /// - Parameter retrying: repeat it under ``retry`` when it fails so; load tests pass `false`,
    ///   as vLLM's benchmark_serving does not repeat a request (a failure is part of the measurement).
    /// - Returns: the text, the arrival time of every event that carried a choice, and the usage
    ///   the server reported (when it reports one in the stream).
    /// - Throws: `ModelError` for an unreachable server, an HTTP error or a stream Assay cannot read.
    public func streamCompletion(_ completion: CompletionRequest, retrying: Bool = true) async throws -> StreamedCompletion {
        var payload: [String: Any] = [
            "model": model, "max_tokens": completion.maxTokens,
            "temperature": completion.temperature, "stream": true, "stream_options": ["include_usage": true],
        ]
        switch completion.api {
        case .completions:
            payload["prompt"] = completion.prompt
            // benchmark_serving's completions client sends vLLM's neutral repetition penalty.
            payload["repetition_penalty"] = 1.0
        case .chat:
            payload["messages"] = [["role": "user", "content": completion.prompt]]
        }
        if completion.plainSampling {
            // llama.cpp's servers default to a repeat penalty of 1.1 (and min-p 0.05): switch them
            // off so that temperature 0 is plain greedy decoding and sampling is what was asked.
            payload["repeat_penalty"] = 1.0
            payload["min_p"] = 0.0
        }
        if completion.ignoreEOS { payload["ignore_eos"] = true }
        if let topK = completion.topK, topK > 0 { payload["top_k"] = topK }
        if let topP = completion.topP, topP < 1 { payload["top_p"] = topP }
        if !completion.stop.isEmpty { payload["stop"] = completion.stop }
        if let seed = completion.seed { payload["seed"] = seed }
        let url = baseURL.appendingPathComponent(completion.api.rawValue)
        let body = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
        let request = try request(url, method: "POST", body: body), timeout = timeout
        // One event a token, a few more (role, finish, usage, [DONE]); twice that and more is a
        // stream that does not end.
        let maximumEvents = completion.maxTokens > (Int.max - 64) / 2 ? Int.max : 2 * completion.maxTokens + 64
        let stream = try await (retrying ? retry : .never).run(log: retries) {
            try await EventStream.run(request, timeout: timeout, maximumEvents: maximumEvents)
        }
        let streamed = try StreamedCompletion(parsing: stream, api: completion.api, url: url.absoluteString)
        try streamed.checkCounts(maxTokens: completion.maxTokens, url: url.absoluteString)
        return streamed
    }

    /// - Throws: `ModelError.serverUnreachable` when the API key holds a control character
    ///   (Foundation would drop the header without a word, and the server would answer 401).
    func request(_ url: URL, method: String, body: Data?) throws -> URLRequest {
        if let apiKey, apiKey.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw ModelError.serverUnreachable(
                url: url.absoluteString, reason: "the API key holds a control character (a line break or carriage return at its end?); it was not sent")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        return request
    }

    /// One request, the whole body back, repeated under ``retry``; HTTP errors thrown with the
    /// server's message.
    func send(_ request: URLRequest) async throws -> Data {
        let timeout = timeout
        return try await retry.run(log: retries) { try await EventStream.run(request, timeout: timeout) }.body
    }
}

/// Which OpenAI endpoint a request goes to.
public enum CompletionAPI: String, Sendable, Equatable, CaseIterable {
    /// `/v1/completions`: the prompt as text.
    case completions
    /// `/v1/chat/completions`: the prompt as one user message.
    case chat = "chat/completions"

    /// The name used on the command line and in suites (`completions`, `chat`).
    public var name: String { self == .chat ? "chat" : "completions" }
}

/// What to complete.
public struct CompletionRequest: Sendable, Equatable {
    public var prompt: String
    public var api: CompletionAPI
    public var maxTokens: Int
    /// 0: greedy (benchmark_serving's default).
    public var temperature: Double
    /// Ask the server to ignore end-of-sequence so that exactly `maxTokens` come back (vLLM and
    /// llama-server honour `ignore_eos`; servers that do not know it ignore it).
    public var ignoreEOS: Bool
    public var stop: [String]
    public var seed: UInt64?
    /// Sampling filters for temperature > 0 (`top_k` is an extension vLLM and llama.cpp accept).
    public var topK: Int?
    public var topP: Double?
    /// Turn off the extra sampling defaults of llama.cpp's servers (repeat penalty 1.1, min-p
    /// 0.05), as generation needs; off for load tests, which send benchmark_serving's payload.
    public var plainSampling = false

    /// A request for up to `maxTokens` tokens after `prompt`.
    public init(prompt: String, maxTokens: Int, api: CompletionAPI = .completions, temperature: Double = 0, ignoreEOS: Bool = false,
                stop: [String] = [], seed: UInt64? = nil) {
        self.prompt = prompt
        self.api = api
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.ignoreEOS = ignoreEOS
        self.stop = stop
        self.seed = seed
    }
}

/// A streamed completion with the client-side arrival time of each part.
public struct StreamedCompletion: Sendable, Equatable {
    /// The concatenated `choices[0].text` of every event.
    public var text: String
    /// Arrival of each event that carried a choice, in nanoseconds after the request was sent
    /// (benchmark_serving counts an event with a choice as a token even when its text is empty).
    public var choiceNanoseconds: [UInt64]
    /// Arrival of the end of the stream (`[DONE]` or the connection's end), after the request was sent.
    public var endNanoseconds: UInt64
    /// Arrival of the last event before `[DONE]` (a usage-only event included).
    public var lastEventNanoseconds: UInt64 = 0
    /// `usage.prompt_tokens`, when the server reported usage in the stream.
    public var promptTokens: Int?
    /// `usage.completion_tokens`, when the server reported usage in the stream.
    public var completionTokens: Int?
    /// The last `finish_reason` the server sent (`length`, `stop`).
    public var finishReason: String?
    /// Time this client spent handling received bytes while the clock ran (its own overhead).
    public var clientNanoseconds: UInt64 = 0

    /// A completion from its parts (tests build them by hand).
    public init(text: String, choiceNanoseconds: [UInt64], endNanoseconds: UInt64, promptTokens: Int? = nil,
                completionTokens: Int? = nil, finishReason: String? = nil) {
        self.text = text
        self.choiceNanoseconds = choiceNanoseconds
        self.endNanoseconds = endNanoseconds
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.finishReason = finishReason
    }

    package init(parsing stream: EventStream.Result, api: CompletionAPI = .completions, url: String) throws {
        self.init(text: "", choiceNanoseconds: [], endNanoseconds: stream.endNanoseconds)
        clientNanoseconds = stream.handlerNanoseconds
        var done = false
        for (index, event) in stream.events.enumerated() {
            let payload = event.data.trimmingCharacters(in: .whitespaces)
            if payload == "[DONE]" { done = true; break }
            lastEventNanoseconds = event.nanoseconds
            guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
                throw ModelError.serverProtocol(url: url, message: "event \(index + 1) of the stream is not JSON: \(payload.prefix(120))")
            }
            if let error = Self.reportedError(in: object) {
                throw ModelError.serverProtocol(url: url, message: "the server reported an error mid-stream: \(Self.message(of: error))")
            }
            if let choices = object["choices"] as? [[String: Any]], let choice = choices.first {
                choiceNanoseconds.append(event.nanoseconds)
                // A text that is there must be a string: `"text": 123` had been taken as "".
                let (piece, field): (Any?, String) = switch api {
                case .completions: (choice["text"], "choices[0].text")
                case .chat: ((choice["delta"] as? [String: Any])?["content"], "choices[0].delta.content")
                }
                if let piece, !(piece is NSNull) {
                    // A string, or content parts as some chat servers stream them ([{"type": "text", "text": …}]).
                    if let string = piece as? String {
                        text += string
                    } else if let parts = piece as? [[String: Any]], parts.allSatisfy({ $0["text"] == nil || $0["text"] is String }) {
                        text += parts.compactMap { $0["text"] as? String }.joined()
                    } else {
                        throw ModelError.serverProtocol(url: url, message: "\(field) in event \(index + 1) is \(Self.message(of: piece)), not a string")
                    }
                }
                if let reason = choice["finish_reason"] as? String { finishReason = reason }
            }
            if let usage = object["usage"] as? [String: Any] {
                promptTokens = try ServerValue.optionalCount(usage["prompt_tokens"], field: "usage.prompt_tokens in event \(index + 1)", url: url) ?? promptTokens
                completionTokens = try ServerValue.optionalCount(usage["completion_tokens"], field: "usage.completion_tokens in event \(index + 1)",
                                                                 url: url) ?? completionTokens
            }
        }
        guard !choiceNanoseconds.isEmpty else {
            throw ModelError.serverProtocol(url: url, message: "the stream ended without a completion choice (\(stream.events.count) event(s))")
        }
        // Every server ends a whole answer with a finish_reason, [DONE] or both: a stream with
        // neither was cut, and its text had been scored as if whole (found by probing, 2026-12-07).
        guard done || finishReason != nil else {
            throw ModelError.serverProtocol(url: url, message: "the stream ended without a finish_reason or [DONE] after \(stream.events.count) event(s): the answer was cut off")
        }
    }

    /// The counts a server gave against the request's `max_tokens`: the token counts of a
    /// generation and of a serving benchmark come from them (`usage.completion_tokens`, or one
    /// per event with a choice when the server sends no usage). Found by probing, 2026-12-07:
    /// 480 events for 160 tokens had been counted as 480 tokens, and a usage of 0 tokens beside a
    /// text had been taken.
    func checkCounts(maxTokens: Int, url: String) throws {
        if let reported = completionTokens, maxTokens > 0, reported > maxTokens {
            throw ModelError.serverProtocol(url: url, message: "usage.completion_tokens is \(reported), above the request's max_tokens \(maxTokens)")
        }
        if completionTokens == 0, !text.isEmpty {
            throw ModelError.serverProtocol(url: url, message: "usage.completion_tokens is 0, but the answer holds \(text.count) characters of text")
        }
        // Without usage the events are the token count: one a token, and at most three more with
        // a choice — chat's first (the role), a last one with only the finish reason, and one a
        // server may send between. With usage the count is the server's, and the events are not
        // bounded here: llama.cpp's llama-server sends one event per change of the parsed message,
        // so a token that ends the reasoning or starts a tool call may send two or three (the
        // stream's own bound, 2 × max_tokens + 64 blocks, still ends one that does not stop). A
        // max_tokens of 0 or less is llama-cpp-python's "until the context is full".
        if maxTokens > 0, completionTokens == nil, choiceNanoseconds.count - 3 > maxTokens {
            throw ModelError.serverProtocol(url: url, message: "\(choiceNanoseconds.count) events of the stream carry a choice for max_tokens \(maxTokens); a server sends one a token and a few more")
        }
    }

    /// The `message` of an OpenAI error object, or its JSON. Any JSON value is taken: `null`, a
    /// number or a boolean had trapped in `JSONSerialization.data`, which `try?` cannot catch
    /// (found by probing, 2026-12-07: `{"error": 123}` with status 400 crashed the run).
    static func message(of error: Any) -> String {
        if let dictionary = error as? [String: Any], let message = dictionary["message"] as? String, !message.isEmpty { return message }
        if let text = error as? String { return text }
        // Inside an array, any JSON value is a valid top level; the brackets are taken off again.
        guard JSONSerialization.isValidJSONObject([error]), let data = try? JSONSerialization.data(withJSONObject: [error]) else { return "\(error)" }
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    /// A response's `error` field when it holds one: `"error": null` beside the choices is no
    /// error (some servers send it on every response).
    static func reportedError(in object: [String: Any]) -> Any? {
        object["error"].flatMap { $0 is NSNull ? nil : $0 }
    }
}
