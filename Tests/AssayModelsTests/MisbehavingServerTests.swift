import AssayModels
import AssayTestSupport
import Foundation
import Testing

/// A loopback server that misbehaves as loaded or broken servers do — 503s, 429s, stalls, a
/// connection closed mid-answer, an answer that is not JSON — selected by the first path segment
/// of the base URL (`/flaky-<id>/v1`): every failure is repeated when that can help and ends in a
/// clear error when it cannot, never a hang.
@Suite(.serialized) struct MisbehavingServerTests {
    static let script = """
        import http.server, json, socket, struct, sys, time, threading
        seen, lock = {}, threading.Lock()
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def send_json(self, status, obj, extra=b"", retry_after=None):
                body = json.dumps(obj).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) + len(extra)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
            def answer(self):
                if self.path.endswith("/models"):
                    return self.send_json(200, {"data": [{"id": "m"}]})
                events = 'data: {"choices":[{"index":0,"text":"ok","finish_reason":"length"}]}\\n\\ndata: [DONE]\\n\\n'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(events)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(events)
            def handle_any(self):
                if self.command == "POST":
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = self.path.strip("/").split("/")[0].split("-")[0]
                with lock:
                    seen[self.path] = seen.get(self.path, 0) + 1
                    count = seen[self.path]
                if mode == "flaky" and count <= 2:
                    return self.send_json(503, {"error": {"message": "overloaded, try again"}})
                if mode == "later" and count <= 1:
                    return self.send_json(503, {"error": {"message": "warming up"}}, retry_after="1")
                if mode == "busy" and count <= 1:
                    return self.send_json(429, {"error": {"message": "rate limited"}})
                if mode == "down":
                    return self.send_json(503, {"error": {"message": "the engine is down"}})
                if mode == "denied":
                    return self.send_json(401, {"error": {"message": "invalid API key"}})
                if mode == "refuses":
                    return self.send_json(500, {"error": {"message": "validation error: prompt must be a string"}})
                if mode == "stall":
                    time.sleep(30)
                    return
                if mode in ("endless", "comments"):
                    # A stream that never ends, one block a millisecond until the client leaves: a
                    # token each time, or a keep-alive comment (a block with no data line).
                    block = b'data: {"choices":[{"index":0,"text":"x"}]}\\n\\n' if mode == "endless" else b': keep-alive\\n\\n'
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for _ in range(200000):
                            self.wfile.write(block)
                            self.wfile.flush()
                            time.sleep(0.001)
                    except OSError:
                        pass
                    return
                if mode in ("hugeusage", "overcount", "zerousage", "manyevents", "manydeltas"):
                    # Counts no request of max_tokens 1 gives: a usage no integer holds, 5 tokens,
                    # 0 tokens beside a text, twelve events with text and no usage; and twelve
                    # events with a usage of 1 (llama-server's deltas of one token), which is taken.
                    used = {"hugeusage": 9223372036854775807, "overcount": 5, "zerousage": 0, "manydeltas": 1}.get(mode)
                    pieces = 12 if mode in ("manyevents", "manydeltas") else 1
                    events = ''.join('data: {"choices":[{"index":0,"text":"ok"}]}\\n\\n' for _ in range(pieces - 1))
                    events += 'data: {"choices":[{"index":0,"text":"ok","finish_reason":"length"}]}\\n\\n'
                    if used is not None:
                        events += 'data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":%d}}\\n\\n' % used
                    events = (events + 'data: [DONE]\\n\\n').encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Content-Length", str(len(events)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return self.wfile.write(events)
                if mode == "trickle":
                    # A stream that is never silent for long but never completes an event either:
                    # one space every 50 ms for 30 s.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for _ in range(600):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        pass
                    return
                if mode == "errnumber":
                    return self.send_json(400, {"error": 123})
                if mode == "errnull":
                    # "error": null beside the answer (some servers send it on every response), and a
                    # stream event whose error is a boolean.
                    events = ('data: {"error":null,"choices":[{"index":0,"text":"ok","finish_reason":"length"}]}\\n\\n'
                              'data: [DONE]\\n\\n').encode() if count <= 1 else b'data: {"error":true}\\n\\n'
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Content-Length", str(len(events)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return self.wfile.write(events)
                if mode == "cut" and count <= 1:
                    return self.send_json(200, {"data": []}, extra=b"x" * 100)  # promises more than it sends, then closes
                if mode == "reset" and count <= 1:
                    # An abortive close (RST) before any answer, as a crashing proxy gives.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if mode == "moved":
                    self.send_response(307)
                    self.send_header("Location", "http://127.0.0.1:%d/elsewhere/v1/models" % self.server.server_address[1])
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    return self.end_headers()
                if mode == "garbage":
                    body = b"<html>this is not JSON</html>"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return self.wfile.write(body)
                self.answer()
            do_GET = do_POST = handle_any
            def log_message(self, *args): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
        """

    static let fast = RetryPolicy(attempts: 4, baseDelay: 0.01, maxDelay: 0.05)

    static func server(_ child: ChildServer, _ mode: String, timeout: TimeInterval = 5, retry: RetryPolicy = fast) -> OpenAIServer {
        OpenAIServer(baseURL: URL(string: "http://127.0.0.1:\(child.port)/\(mode)-\(UUID().uuidString)/v1")!, model: "m",
                     apiKey: nil, timeout: timeout, retry: retry)
    }

    static let request = CompletionRequest(prompt: "Hi", maxTokens: 1)

    @Test func repeatableFailuresAreRepeatedAndCounted() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        // Two 503s, then an answer: served, with the two retries on record.
        let flaky = Self.server(child, "flaky")
        #expect(try await flaky.servedModels() == ["m"])
        #expect(flaky.retries.summary == "2 requests repeated (HTTP 503 ×2)")
        let flakyStream = Self.server(child, "flaky")
        #expect(try await flakyStream.streamCompletion(Self.request).text == "ok")
        #expect(flakyStream.retries.count == 2)
        // A 503 asking to come back in 1 s: the wait is the server's (up to the policy's cap), not the drawn one.
        let later = Self.server(child, "later", retry: RetryPolicy(attempts: 2, baseDelay: 0.01, maxDelay: 5))
        let started = Date()
        #expect(try await later.servedModels() == ["m"])
        #expect(Date().timeIntervalSince(started) >= 0.95 && later.retries.count == 1)
        // A 429, then an answer.
        let busy = Self.server(child, "busy")
        #expect(try await busy.servedModels() == ["m"])
        #expect(busy.retries.summary == "1 request repeated (HTTP 429 ×1)")
        // A connection closed before the promised bytes, then an answer.
        let cut = Self.server(child, "cut")
        #expect(try await cut.servedModels() == ["m"])
        #expect(cut.retries.summary == "1 request repeated (connection closed mid-answer ×1)")
        // A connection reset before any answer, then an answer.
        let reset = Self.server(child, "reset")
        #expect(try await reset.servedModels() == ["m"])
        #expect(reset.retries.summary == "1 request repeated (connection reset ×1)")
        // A load test does not repeat: the failure is its measurement.
        let measured = Self.server(child, "flaky")
        await #expect(throws: ModelError.self) { try await measured.streamCompletion(Self.request, retrying: false) }
        #expect(measured.retries.count == 0)
    }

    @Test func failuresThatPersistEndInAClearError() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        // Down for good: four tries, then the server's message and the count.
        let down = Self.server(child, "down")
        do {
            _ = try await down.servedModels()
            Issue.record("no error")
        } catch let error as ModelError {
            guard case let .serverStatus(_, status, message) = error else { Issue.record("\(error)"); return }
            #expect(status == 503 && message == "the engine is down (4 tries)")
        }
        #expect(down.retries.count == 3)
        // Not worth repeating: a 401, a 500 (what a server answers a request it cannot take, as
        // llama-cpp-python a token-id prompt) and an answer that is not JSON fail at once.
        for mode in ["denied", "refuses"] {
            let server = Self.server(child, mode)
            await #expect(throws: ModelError.self) { try await server.servedModels() }
            #expect(server.retries.count == 0, "\(mode)")
        }
        // A redirect is not followed: the API key in its header must not travel to a host the
        // suite did not name.
        let moved = Self.server(child, "moved")
        do {
            _ = try await moved.servedModels()
            Issue.record("the redirect was followed")
        } catch let error as ModelError {
            guard case let .serverStatus(_, 307, message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("a redirect to http://127.0.0.1:\(child.port)/elsewhere/v1/models, not followed"), "\(message)")
        }
        #expect(moved.retries.count == 0)
        // An API key holding a line break (a pasted key and more) is refused before sending, without echoing it.
        let crlf = OpenAIServer(baseURL: URL(string: "http://127.0.0.1:\(child.port)/ok/v1")!, model: "m",
                                apiKey: "sk-planted-4242\r\nInjected: yes", timeout: 5, retry: Self.fast)
        do {
            _ = try await crlf.servedModels()
            Issue.record("no error")
        } catch let error as ModelError {
            let text = error.errorDescription ?? ""
            #expect(!text.contains("planted-4242") && text.contains("the API key holds a control character"), "\(text)")
            #expect(error.recoverySuggestion?.contains("without a line break") == true, "\(error.recoverySuggestion ?? "")")
        }
        let garbage = Self.server(child, "garbage")
        do {
            _ = try await garbage.servedModels()
            Issue.record("no error")
        } catch let error as ModelError {
            guard case let .serverProtocol(_, message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("it answered a web page (\"<html>this is not JSON</html>…\"): is the endpoint the API's base URL, ending in /v1?"), "\(message)")
        }
        #expect(garbage.retries.count == 0)
    }

    /// The most seconds a request ended by the client (a timeout, a deadline, a cancel, an event
    /// bound) may take here: well below the 30 s the stalling and trickling modes wait, so a
    /// request that waited for the server fails, but not a measure of the timeout itself. Tests
    /// run in parallel on the cooperative pool (two threads on two cores), and an awaiting test
    /// resumes only when another suite's synchronous work frees a thread: a 0.5 s timeout measured
    /// 5.9 s in CI (2026-12-07) while the kernel suites ran.
    static let endedByTheClient: TimeInterval = 20

    /// The reason `server`'s streamed request failed as unreachable (an issue recorded for any
    /// other outcome), and the seconds it took.
    static func unreachable(_ server: OpenAIServer) async -> (reason: String, seconds: TimeInterval) {
        let start = Date()
        var reason = ""
        do {
            _ = try await server.streamCompletion(request)
            Issue.record("no error")
        } catch let error as ModelError {
            if case let .serverUnreachable(_, why) = error { reason = why } else { Issue.record("\(error)") }
        } catch {
            Issue.record("\(error)")
        }
        return (reason, Date().timeIntervalSince(start))
    }

    @Test func aStalledServerTimesOutInsteadOfHanging() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        // A server silent for the whole timeout is stalled: one timeout, not four.
        let stalled = Self.server(child, "stall", timeout: 0.5)
        let (reason, seconds) = await Self.unreachable(stalled)
        #expect(reason == "no data within the timeout", "\(reason)")
        #expect(seconds < Self.endedByTheClient, "\(seconds)")
        #expect(stalled.retries.count == 0)
        // Cancelling a request in flight ends it at once.
        let waiting = Self.server(child, "stall", timeout: 60)
        let task = Task { try await waiting.streamCompletion(Self.request) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let cancelled = Date()
        task.cancel()
        await #expect(throws: (any Error).self) { try await task.value }
        #expect(Date().timeIntervalSince(cancelled) < Self.endedByTheClient)
    }

    /// A stream that goes on without end (a token a millisecond, never silent, so the timeout
    /// never fires) stops at twice the request's max_tokens and more; a usage count no request
    /// can hold is refused by name (it had trapped in the serving metrics' sums).
    @Test func endlessStreamsAndAbsurdUsageAreRefused() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        /// The error a single streamed request ends in, or "accepted".
        func outcome(_ mode: String, _ request: CompletionRequest) async -> String {
            do {
                _ = try await Self.server(child, mode, timeout: 5).streamCompletion(request, retrying: false)
                return "accepted"
            } catch { return error.localizedDescription }
        }
        // Blocks without data (keep-alive comments) count too: a server sending only those is as endless.
        for mode in ["endless", "comments"] {
            let start = Date()
            let message = await outcome(mode, CompletionRequest(prompt: "Hi", maxTokens: 4))
            #expect(message.contains("went on past 72 events"), "\(mode): \(message)")
            #expect(Date().timeIntervalSince(start) < Self.endedByTheClient, "\(mode)")
        }
        let refused = await outcome("hugeusage", Self.request)
        #expect(refused.contains("usage.completion_tokens in event 2 is 9") && refused.contains("not a whole number of tokens"), "\(refused)")
        // Counts a request's max_tokens does not allow (found by probing, 2026-12-07: events had
        // counted as tokens beyond it, and a usage of 0 beside a text had been taken).
        for (mode, text) in [("overcount", "usage.completion_tokens is 5, above the request's max_tokens 1"),
                             ("zerousage", "usage.completion_tokens is 0, but the answer holds 2 characters"),
                             ("manyevents", "12 events of the stream carry a choice for max_tokens 1")] {
            let message = await outcome(mode, Self.request)
            #expect(message.contains(text), "\(mode): \(message)")
        }
        // With usage the count is the server's: llama.cpp's llama-server sends an event per change
        // of the parsed message (reasoning, content, a tool call's name and arguments), several for
        // one token, and such an answer had been refused.
        #expect(await outcome("manydeltas", Self.request) == "accepted")
    }

    /// A server never silent for a whole timeout but never done (a byte every 50 ms) meets the
    /// whole-answer deadline, 4 × the timeout (it had been waited on without end; found by
    /// probing, 2026-12-07).
    @Test func aTricklingServerMeetsTheWholeAnswerDeadline() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        let trickle = Self.server(child, "trickle", timeout: 0.5)
        let (reason, seconds) = await Self.unreachable(trickle)
        #expect(reason == "the answer took longer than 2 s in all (4 × the timeout): the server sends too slowly", "\(reason)")
        #expect(seconds > 1.5 && seconds < Self.endedByTheClient, "\(seconds)")
        #expect(trickle.retries.count == 0)
    }

    /// An error field of any JSON kind is quoted, never a trap: `{"error": 123}` had crashed the
    /// process in JSONSerialization (SIGILL; found by probing, 2026-12-07). `"error": null` beside
    /// an answer is no error.
    @Test func errorFieldsOfAnyKindAreQuoted() async throws {
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}"])
        defer { withExtendedLifetime(child) {} }
        do {
            _ = try await Self.server(child, "errnumber").streamCompletion(Self.request, retrying: false)
            Issue.record("no error")
        } catch let error as ModelError {
            guard case let .serverStatus(_, status, message) = error else { Issue.record("\(error)"); return }
            #expect(status == 400 && message == "123", "\(message)")
        }
        let server = Self.server(child, "errnull")
        #expect(try await server.streamCompletion(Self.request, retrying: false).text == "ok")
        do {
            _ = try await server.streamCompletion(Self.request, retrying: false)
            Issue.record("no error")
        } catch {
            #expect(error.localizedDescription.contains("the server reported an error mid-stream: true"), "\(error.localizedDescription)")
        }
    }
}
