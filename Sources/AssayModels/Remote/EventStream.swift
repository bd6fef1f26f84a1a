import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP request whose response is read as it arrives: server-sent events (`data: …` lines,
/// events separated by a blank line) stamped with the monotonic clock when their last byte came
/// in, or a plain body. A fresh connection per request, as benchmark_serving's aiohttp client
/// opens one.
package enum EventStream {
    /// One event's `data` (its `data:` lines joined by newlines) and arrival time.
    struct Event: Sendable {
        var data: String
        /// Nanoseconds after the request was handed to the connection.
        var nanoseconds: UInt64
    }

    /// The response.
    package struct Result: Sendable {
        var events: [Event]
        /// The whole body (for non-streamed answers).
        var body: Data
        /// Arrival of the last byte, after the request was sent.
        var endNanoseconds: UInt64
        /// Time spent in this client's receive handler (buffering and cutting events) — the part
        /// of a measured latency that is the harness's own.
        var handlerNanoseconds: UInt64
    }

    /// Sends `request` and collects the response: `http://` on ``SocketHTTP`` (a thread asleep in
    /// `read()`), `https://` on URLSession.
    /// - Throws: `ModelError.serverUnreachable` when no answer came, `.serverStatus` for an HTTP
    ///   status other than 2xx (with the server's error message). Cancelling the task cancels the request.
    static func run(_ request: URLRequest, timeout: TimeInterval) async throws -> Result {
        request.url?.scheme == "http" ? try await runOnSocket(request, timeout: timeout) : try await runOnURLSession(request, timeout: timeout)
    }

    static func runOnSocket(_ request: URLRequest, timeout: TimeInterval) async throws -> Result {
        let connection = SocketHTTP.Connection()
        let url = request.url?.absoluteString ?? "?"
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, Error>) in
                // A thread of its own: blocking reads must not hold one of the few cooperative threads.
                let thread = Thread {
                    var cutter = EventCutter()
                    let start = DispatchTime.now().uptimeNanoseconds
                    cutter.start = start
                    do {
                        let (status, retryAfter) = try SocketHTTP.exchange(request, timeout: timeout, connection: connection) { data, arrival in
                            cutter.append(data, arrival: arrival)
                        }
                        if connection.isCancelled { throw CancellationError() }
                        continuation.resume(with: Swift.Result { try RetryAfter.attach(retryAfter) { try cutter.result(status: status, url: url) } })
                    } catch {
                        continuation.resume(throwing: connection.isCancelled ? CancellationError() : error)
                    }
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancel: {
            connection.cancel()
        }
    }

    static func runOnURLSession(_ request: URLRequest, timeout: TimeInterval) async throws -> Result {
        let collector = Collector()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = max(timeout, 24 * 3600)
        let session = URLSession(configuration: configuration, delegate: collector, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let url = request.url?.absoluteString ?? "?"
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, Error>) in
                let task = session.dataTask(with: request)
                collector.start(task: task, url: url, continuation: continuation)
            }
        } onCancel: {
            collector.cancel()
        }
    }

    /// Cuts a body into server-sent events as bytes arrive.
    package struct EventCutter {
        var start: UInt64 = 0
        var body = Data()
        var pending = Data()
        var events: [Event] = []
        var last: UInt64 = 0
        var handler: UInt64 = 0

        package init() {}

        /// Takes bytes that arrived at `arrival` (monotonic nanoseconds).
        package mutating func append(_ data: Data, arrival: UInt64) {
            last = arrival - start
            body.append(data)
            pending.append(data)
            // Events end at a blank line ("\n\n"; "\r\n\r\n" reads the same once "\r" is dropped).
            while let end = Self.eventEnd(in: pending) {
                let raw = String(decoding: pending[pending.startIndex..<end.lowerBound], as: UTF8.self)
                pending.removeSubrange(pending.startIndex..<end.upperBound)
                let data = raw.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
                    .filter { $0.hasPrefix("data:") }
                    .map { line -> Substring in
                        let value = line.dropFirst(5)
                        return value.hasPrefix(" ") ? value.dropFirst() : value
                    }
                if !data.isEmpty { events.append(Event(data: data.joined(separator: "\n"), nanoseconds: last)) }
            }
            handler += DispatchTime.now().uptimeNanoseconds - arrival
        }

        /// The response, or the HTTP error with the server's message.
        package func result(status: Int, url: String) throws -> Result {
            guard (200..<300).contains(status) else {
                let message = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])
                    .flatMap { $0["error"] ?? $0["detail"] ?? $0["message"] }
                    .map { StreamedCompletion.message(of: $0) }
                    ?? String(decoding: body.prefix(300), as: UTF8.self)
                throw ModelError.serverStatus(url: url, status: status, message: message)
            }
            return Result(events: events, body: body, endNanoseconds: last, handlerNanoseconds: handler)
        }

        /// The range of the first blank line ("\n\n" or "\n\r\n") in `data`.
        static func eventEnd(in data: Data) -> Range<Data.Index>? {
            var previousNewline: Data.Index?
            var index = data.startIndex
            while index < data.endIndex {
                let byte = data[index]
                if byte == 0x0A {
                    if let previous = previousNewline { return previous..<data.index(after: index) }
                    previousNewline = index
                } else if byte != 0x0D {
                    previousNewline = nil
                }
                index = data.index(after: index)
            }
            return nil
        }
    }

    /// The URLSession delegate: hands arriving bytes to an ``EventCutter``.
    final class Collector: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        /// URLSession's error in the socket client's words where they mean the same, so that
        /// ``RetryPolicy`` treats `https://` as it treats `http://`.
        static func reason(_ error: any Error) -> String {
            let text = error.localizedDescription
            switch (error as? URLError)?.code {
            case .cannotConnectToHost?: return "connection refused (\(text))"
            case .networkConnectionLost?, .badServerResponse?: return "the connection closed in the middle of the response (\(text))"
            case .timedOut?: return "no data within the timeout"
            case .dnsLookupFailed?: return "temporary failure in name resolution (\(text))"
            default: return text
            }
        }

        private let lock = NSLock()
        private var task: URLSessionDataTask?
        private var url = ""
        private var continuation: CheckedContinuation<Result, Error>?
        private var cutter = EventCutter()
        private var status = 0
        private var retryAfter: String?
        private var cancelled = false

        func start(task: URLSessionDataTask, url: String, continuation: CheckedContinuation<Result, Error>) {
            lock.lock()
            self.task = task
            self.url = url
            self.continuation = continuation
            let cancelledEarly = cancelled
            cutter.start = DispatchTime.now().uptimeNanoseconds
            lock.unlock()
            if cancelledEarly { task.cancel() }
            task.resume()
        }

        func cancel() {
            lock.lock()
            cancelled = true
            let task = task
            lock.unlock()
            task?.cancel()
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            lock.lock()
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
            retryAfter = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After")
            lock.unlock()
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let now = DispatchTime.now().uptimeNanoseconds
            lock.lock()
            cutter.append(data, arrival: now)
            lock.unlock()
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            lock.lock()
            let continuation = continuation
            self.continuation = nil
            let (status, cutter, url, cancelled, retryAfter) = (status, cutter, url, cancelled, retryAfter)
            lock.unlock()
            guard let continuation else { return }
            if cancelled {
                continuation.resume(throwing: CancellationError())
            } else if let error {
                continuation.resume(throwing: ModelError.serverUnreachable(url: url, reason: Self.reason(error)))
            } else {
                continuation.resume(with: Swift.Result { try RetryAfter.attach(retryAfter) { try cutter.result(status: status, url: url) } })
            }
        }
    }
}
