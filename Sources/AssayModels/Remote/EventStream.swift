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

    /// Sends `request` and collects the response (``HTTPTransport``: AsyncHTTPClient, `http://`
    /// and `https://` alike).
    /// - Throws: `ModelError.serverUnreachable` when no answer came, `.serverStatus` for an HTTP
    ///   status other than 2xx (with the server's error message). Cancelling the task cancels the request.
    /// - Parameter maximumEvents: the most event blocks the answer may hold, data or not (a
    ///   streamed completion's bound from its `max_tokens`): a stream that goes on past it fails
    ///   instead of being read for ever — `timeout` only bounds silence.
    static func run(_ request: URLRequest, timeout: TimeInterval, maximumEvents: Int? = nil) async throws -> Result {
        try await HTTPTransport.exchange(request, timeout: timeout, maximumEvents: maximumEvents)
    }

    /// Cuts a body into server-sent events as bytes arrive. Each byte is looked at once, however the
    /// body is cut into reads: a 10 MB JSON answer (no blank line in it) is scanned once, not once
    /// per read.
    package struct EventCutter {
        var start: UInt64 = 0
        var body = Data()
        var pending = Data()
        /// Bytes of `pending` already searched for the end of an event, and where the last newline
        /// among them is (offsets from `pending`'s start).
        var scanned = 0
        var lastNewline: Int?
        var events: [Event] = []
        /// Event blocks cut so far, with or without `data:` lines (comments and keep-alives count).
        var blocks = 0
        var last: UInt64 = 0
        var handler: UInt64 = 0

        package init() {}

        /// Takes bytes that arrived at `arrival` (monotonic nanoseconds).
        package mutating func append(_ data: Data, arrival: UInt64) {
            last = arrival - start
            body.append(data)
            pending.append(data)
            // Events end at a blank line ("\n\n"; "\r\n\r\n" reads the same once "\r" is dropped).
            while let end = nextEventEnd() {
                let raw = String(decoding: pending[pending.startIndex..<(pending.startIndex + end.lowerBound)], as: UTF8.self)
                pending.removeSubrange(pending.startIndex..<(pending.startIndex + end.upperBound))
                scanned = 0
                lastNewline = nil
                blocks += 1
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

        /// The offsets of the first blank line ("\n\n", "\n\r\n") in `pending`, searching on from
        /// where the last call stopped.
        mutating func nextEventEnd() -> Range<Int>? {
            var position = scanned, newline = lastNewline
            let found = pending.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Range<Int>? in
                while position < bytes.count {
                    let byte = bytes[position]
                    position += 1
                    if byte == 0x0A {
                        if let previous = newline { return previous..<position }
                        newline = position - 1
                    } else if byte != 0x0D {
                        newline = nil
                    }
                }
                return nil
            }
            scanned = position
            lastNewline = newline
            return found
        }

        /// The response, or the HTTP error with the server's message.
        package func result(status: Int, url: String) throws -> Result {
            guard (200..<300).contains(status) else {
                let message = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])
                    .flatMap { object in ["error", "detail", "message"].lazy.compactMap { object[$0] }.first { !($0 is NSNull) } }
                    .map { StreamedCompletion.message(of: $0) }
                    ?? String(decoding: body.prefix(300), as: UTF8.self)
                throw ModelError.serverStatus(url: url, status: status, message: message)
            }
            return Result(events: events, body: body, endNanoseconds: last, handlerNanoseconds: handler)
        }
    }
}
