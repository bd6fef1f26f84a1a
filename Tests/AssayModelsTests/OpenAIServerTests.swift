@testable import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// The OpenAI-compatible client and the serving benchmark: stream parsing and arrival schedules
/// on made-up input, then against the real server scripts/test.sh starts (llama-cpp-python
/// serving SmolLM2).
struct OpenAIServerTests {
    @Test func eventsAreCutAtBlankLinesAndStampedWhenComplete() throws {
        var cutter = EventStream.EventCutter()
        cutter.start = 1_000
        cutter.append(Data("data: {\"a\":1}\n\ndata: {\"b\"".utf8), arrival: 1_500)
        cutter.append(Data(":2}\r\n\r\n: a comment\n\ndata: x\ndata: y\n".utf8), arrival: 2_000)
        cutter.append(Data("\ndata: [DONE]\n\n".utf8), arrival: 3_000)
        let result = try cutter.result(status: 200, url: "u")
        #expect(result.events.map(\.data) == ["{\"a\":1}", "{\"b\":2}", "x\ny", "[DONE]"])
        // The second event completed with the second read, the third with the third.
        #expect(result.events.map(\.nanoseconds) == [500, 1_000, 2_000, 2_000])
        #expect(result.endNanoseconds == 2_000)
    }

    @Test func eventsAreTheSameHoweverTheBodyIsCutIntoReads() throws {
        let body = Data("data: {\"a\":1}\r\n\r\n: note\n\ndata: x\ndata: y\n\n\ndata: \(String(repeating: "z", count: 3_000))\n\ndata: [DONE]\n\n".utf8)
        var whole = EventStream.EventCutter()
        whole.append(body, arrival: 1)
        let expected = try whole.result(status: 200, url: "u").events.map(\.data)
        #expect(expected == ["{\"a\":1}", "x\ny", String(repeating: "z", count: 3_000), "[DONE]"])
        // Every read size from one byte up: the search for a blank line resumes where it stopped,
        // also when "\n", "\r" and "\n" arrive in separate reads.
        for size in [1, 2, 3, 5, 64, 1_000] {
            var cutter = EventStream.EventCutter()
            var offset = 0
            while offset < body.count {
                cutter.append(body.subdata(in: offset..<min(offset + size, body.count)), arrival: 1)
                offset += size
            }
            #expect(try cutter.result(status: 200, url: "u").events.map(\.data) == expected, "reads of \(size) bytes")
        }
    }

    @Test func httpErrorsCarryTheServersMessage() {
        var cutter = EventStream.EventCutter()
        cutter.append(Data(#"{"error": {"message": "model 'x' not found", "type": "invalid_request_error"}}"#.utf8), arrival: 10)
        #expect(throws: ModelError.serverStatus(url: "u", status: 404, message: "model 'x' not found")) { try cutter.result(status: 404, url: "u") }
        // The hint follows the status: a 404 of a URL without /v1 is the endpoint's path, a 400 the server's own limit.
        #expect(ModelError.serverStatus(url: "http://h:8000/models", status: 404, message: "").recoverySuggestion?.contains("usually ends in /v1") == true)
        #expect(ModelError.serverStatus(url: "http://h:8000/v1/models", status: 404, message: "").recoverySuggestion?.contains("model name") == true)
        #expect(ModelError.serverStatus(url: "http://h/v1/completions", status: 401, message: "").recoverySuggestion?.hasPrefix("check the API key") == true)
        #expect(ModelError.serverStatus(url: "http://h/v1/completions", status: 400, message: "").recoverySuggestion?.contains("max_model_len") == true)
    }

    @Test func streamedChoicesBecomeTimings() throws {
        let events = [#"{"choices":[{"text":"Hel","finish_reason":null}]}"#, #"{"choices":[{"text":"lo","finish_reason":null}]}"#,
                      #"{"choices":[{"text":"","finish_reason":"length"}]}"#, #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#, "[DONE]"]
        let stream = EventStream.Result(events: events.enumerated().map { .init(data: $1, nanoseconds: UInt64(100 + 10 * $0)) },
                                        body: Data(), endNanoseconds: 140, handlerNanoseconds: 1)
        let completion = try StreamedCompletion(parsing: stream, url: "u")
        #expect(completion.text == "Hello" && completion.finishReason == "length")
        #expect(completion.choiceNanoseconds == [100, 110, 120])  // the usage-only event is not a token
        #expect(completion.promptTokens == 7 && completion.completionTokens == 3)

        let broken = EventStream.Result(events: [.init(data: "{not json", nanoseconds: 1)], body: Data(), endNanoseconds: 1, handlerNanoseconds: 0)
        #expect(throws: ModelError.self) { try StreamedCompletion(parsing: broken, url: "u") }
        let empty = EventStream.Result(events: [.init(data: "[DONE]", nanoseconds: 1)], body: Data(), endNanoseconds: 1, handlerNanoseconds: 0)
        #expect(throws: ModelError.serverProtocol(url: "u", message: "the stream ended without a completion choice (1 event(s))")) {
            try StreamedCompletion(parsing: empty, url: "u")
        }
        // A text that is not a string, and a stream cut before its end (no finish_reason, no
        // [DONE]), are refused: they had been taken as "" and as a whole answer (found by probing, 2026-12-07).
        func parse(_ events: [String]) throws -> StreamedCompletion {
            try StreamedCompletion(parsing: EventStream.Result(events: events.map { .init(data: $0, nanoseconds: 1) }, body: Data(),
                                                               endNanoseconds: 1, handlerNanoseconds: 0), url: "u")
        }
        #expect(throws: ModelError.serverProtocol(url: "u", message: "choices[0].text in event 1 is 123, not a string")) {
            try parse([#"{"choices":[{"text":123,"finish_reason":"length"}]}"#, "[DONE]"])
        }
        #expect(throws: ModelError.serverProtocol(url: "u", message: "the stream ended without a finish_reason or [DONE] after 1 event(s): the answer was cut off")) {
            try parse([#"{"choices":[{"text":"Hel","finish_reason":null}]}"#])
        }
        #expect(try parse([#"{"choices":[{"text":"Hel","finish_reason":"length"}]}"#]).text == "Hel")
        #expect(try parse([#"{"choices":[{"text":"Hel"}]}"#, "[DONE]"]).text == "Hel")
        // Chat content as parts (some servers stream reasoning models' deltas so) is their texts.
        let parts = try StreamedCompletion(parsing: EventStream.Result(
            events: [.init(data: #"{"choices":[{"delta":{"content":[{"type":"text","text":"Hi"},{"type":"thinking"},{"type":"text","text":" there"}]},"finish_reason":"stop"}]}"#, nanoseconds: 1)],
            body: Data(), endNanoseconds: 1, handlerNanoseconds: 0), api: .chat, url: "u")
        #expect(parts.text == "Hi there")
    }

    @Test func chatDeltasAndBenchmarkServingsChatClock() throws {
        let events = [#"{"choices":[{"delta":{"role":"assistant"},"finish_reason":null}]}"#, #"{"choices":[{"delta":{"content":"Hi"}}]}"#,
                      #"{"choices":[{"delta":{"content":" there"},"finish_reason":"length"}]}"#, #"{"choices":[],"usage":{"completion_tokens":2}}"#, "[DONE]"]
        let stream = EventStream.Result(events: events.enumerated().map { .init(data: $1, nanoseconds: UInt64(1_000 * ($0 + 1))) },
                                        body: Data(), endNanoseconds: 5_000, handlerNanoseconds: 0)
        let completion = try StreamedCompletion(parsing: stream, api: .chat, url: "u")
        #expect(completion.text == "Hi there" && completion.completionTokens == 2)
        // The role-only event is the first with a choice: TTFT there, as benchmark_serving's chat client.
        #expect(completion.choiceNanoseconds == [1_000, 2_000, 3_000] && completion.lastEventNanoseconds == 4_000)
    }

    @Test func unreachableServerIsNamed() async throws {
        // Port 9 (discard): nothing listens on it here.
        let server = OpenAIServer(baseURL: URL(string: "http://127.0.0.1:9/v1")!, model: "m", timeout: 5)
        await #expect(throws: ModelError.self) { try await server.servedModels() }
        do { _ = try await server.servedModels() } catch let error as ModelError {
            #expect(error.errorDescription?.hasPrefix("cannot reach http://127.0.0.1:9/v1/models") == true)
        }
        // By address, by a host name (every address it resolves to refuses), and a name that does
        // not resolve: the reasons RetryPolicy reads, in words a person reads.
        let fast = RetryPolicy(attempts: 2, baseDelay: 0.01, maxDelay: 0.01)
        for host in ["127.0.0.1", "localhost"] {
            do {
                _ = try await OpenAIServer(baseURL: URL(string: "http://\(host):9/v1")!, model: "m", timeout: 5, retry: fast).servedModels()
                Issue.record("no error")
            } catch let error as ModelError {
                guard case let .serverUnreachable(_, reason) = error else { Issue.record("\(error)"); continue }
                #expect(reason == "connection refused (2 tries)", "\(host): \(reason)")
            }
        }
        do {
            _ = try await OpenAIServer(baseURL: URL(string: "http://no-such-host.invalid/v1")!, model: "m", timeout: 5, retry: fast).servedModels()
            Issue.record("no error")
        } catch let error as ModelError {
            guard case let .serverUnreachable(_, reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.hasPrefix("cannot resolve no-such-host.invalid: "), "\(reason)")
        }
    }

    // MARK: - Against the real server

    @Test func realServerListsItsModelAndRejectsOtherNames() async throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        #expect(try await OpenAIServer(baseURL: endpoint, model: name).servedModels() == [name])
        try await OpenAIServer(baseURL: endpoint, model: name).checkModel()
        await #expect(throws: ModelError.serverModelUnknown(url: endpoint.absoluteString, model: "no-such-model", served: [name])) {
            try await OpenAIServer(baseURL: endpoint, model: "no-such-model").checkModel()
        }
        // A wrong path answers 404, reported with the status.
        let wrong = OpenAIServer(baseURL: endpoint.deletingLastPathComponent().appendingPathComponent("v9"), model: name)
        do {
            _ = try await wrong.servedModels()
            Issue.record("expected an HTTP error")
        } catch let ModelError.serverStatus(_, status, _) {
            #expect(status == 404)
        }
    }

    @Test func realServerStreamsOneEventPerToken() async throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let modelURL = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let server = OpenAIServer(baseURL: endpoint, model: name)
        let completion = try await server.streamCompletion(CompletionRequest(prompt: "The three primary colours are", maxTokens: 12))
        #expect(!completion.text.isEmpty)
        #expect(completion.choiceNanoseconds == completion.choiceNanoseconds.sorted())
        #expect(completion.finishReason == "length" || completion.finishReason == "stop")
        // llama.cpp streams a token per event (the last event closes the stream with empty text):
        // the tokens of the text agree with the events.
        let tokenizer = try CausalTokenizer(loading: modelURL)
        let tokens = tokenizer.encode(completion.text, addSpecial: false, parseSpecial: false).count
        #expect(abs(completion.choiceNanoseconds.count - 1 - tokens) <= 1, "\(completion.choiceNanoseconds.count) events for \(tokens) tokens")
        #expect(tokens <= 12)
    }

    @Test func realServerChats() async throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let server = OpenAIServer(baseURL: endpoint, model: name)
        let completion = try await server.streamCompletion(CompletionRequest(prompt: "Name a colour.", maxTokens: 6, api: .chat))
        #expect(!completion.text.isEmpty && completion.choiceNanoseconds.count >= 2)
    }

    /// The backend protocol over HTTP: the server's tokenizer equals Assay's, and greedy decoding
    /// there (repeat penalty and min-p switched off) mostly equals the in-process engine's — the
    /// rest are near-ties that llama.cpp's quantized activations tip the other way.
    @Test func realServerBackendMatchesTheEngine() async throws {
        let (endpoint, name) = try TestEnvironment.testServer()
        let modelURL = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let remote = OpenAIBackend(server: OpenAIServer(baseURL: endpoint, model: name))
        let local = try InProcessBackend(modelAt: modelURL)
        let text = "Field notes: the river rose 3 cm overnight — héron, 🐟."
        let ids = try await remote.tokenize(text, addSpecial: false, parseSpecial: false)
        #expect(ids == local.tokenizer.encode(text, addSpecial: false, parseSpecial: false))
        #expect(try await remote.detokenize(ids) == text)
        await #expect(throws: ModelError.self) { try await remote.scoreTokens(ids, from: 0, options: ScoreOptions()) }

        let prompts = ["The committee met on Tuesday to", "My favourite season is", "To bake bread you need",
                       "The old lighthouse stood", "Rivers flow toward", "A good night's sleep"]
        let parameters = GenerationParameters(maxTokens: 6)
        var same = 0
        for prompt in prompts {
            let served = try await remote.generate(prompt, parameters: parameters)
            let engine = try local.generateNow(prompt, parameters: parameters)
            #expect(served.tokenCount > 0 && served.tokenCount <= 6 && served.finishReason != .stop)
            if served.text == engine.text { same += 1 }
        }
        #expect(same >= 3, "\(same) of \(prompts.count) greedy completions equal")
    }

}
