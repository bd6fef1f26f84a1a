import Foundation

/// How a request that failed in a way worth repeating is repeated: HTTP 429, 502, 503 and 504
/// (a server or the proxy in front of it overloaded or restarting), a connection refused, reset or
/// closed in the middle of the answer. Each retry waits a random time between 0 and
/// `min(maxDelay, baseDelay · 2^(retry−1))` ("full jitter", so that many clients do not come back
/// at once), at most `attempts` tries in all. Anything else fails at once: 400, 401, 404 and 500
/// (a server's answer to a request it cannot take — llama-cpp-python refuses token-id prompts so —
/// comes back the same), an answer that is not the API's, a cancellation, and a timeout (a server
/// that sent nothing for the whole timeout is stalled, and waiting that long again helps nobody).
public struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, the first included (1: never repeat).
    public var attempts: Int
    /// The longest wait before the first retry, in seconds.
    public var baseDelay: TimeInterval
    /// The cap on any one wait, in seconds.
    public var maxDelay: TimeInterval

    public init(attempts: Int, baseDelay: TimeInterval, maxDelay: TimeInterval) {
        self.attempts = max(1, attempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
    }

    /// Four tries, waits of up to 0.5, 1 and 2 seconds.
    public static let standard = RetryPolicy(attempts: 4, baseDelay: 0.5, maxDelay: 8)
    /// One try (load tests: a failed request is a measurement, not something to hide).
    public static let never = RetryPolicy(attempts: 1, baseDelay: 0, maxDelay: 0)

    /// The wait before retry number `retry` (1-based), in seconds.
    func delay(beforeRetry retry: Int) -> TimeInterval {
        let cap = min(maxDelay, baseDelay * pow(2, Double(min(retry - 1, 30))))
        return cap > 0 ? Double.random(in: 0...cap) : 0
    }

    /// Why `error` is worth another try (its name in the report), or nil when it is not.
    static func retryReason(_ error: any Error) -> String? {
        switch error {
        case let ModelError.serverStatus(_, status, _) where [429, 502, 503, 504].contains(status):
            return "HTTP \(status)"
        case let ModelError.serverUnreachable(_, reason):
            // HTTPTransport's words (HTTPTransport.failure) and the C library's for the connection.
            if reason.hasPrefix("the connection closed") { return "connection closed mid-answer" }
            if reason.localizedCaseInsensitiveContains("connection refused") { return "connection refused" }
            if reason.localizedCaseInsensitiveContains("connection reset") { return "connection reset" }
            if reason.localizedCaseInsensitiveContains("broken pipe") { return "connection closed mid-request" }
            if reason.localizedCaseInsensitiveContains("temporary failure in name resolution") { return "name resolution" }
            return nil
        default: return nil
        }
    }

    /// Runs `body` under this policy, recording every retry in `log`.
    /// - Throws: `body`'s error when it is not worth repeating or the tries are used up (then
    ///   saying how many were made), or `CancellationError` when cancelled while waiting.
    func run<T: Sendable>(log: RetryLog, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch {
                // A server's Retry-After (seconds) replaces the drawn wait, up to `maxDelay`.
                let (error, asked) = RetryAfter.split(error)
                guard let reason = Self.retryReason(error) else { throw error }
                guard attempt < attempts else { throw attempt > 1 ? Self.exhausted(error, attempts: attempt) : error }
                log.record(reason)
                let wait = asked.map { min($0, maxDelay) } ?? delay(beforeRetry: attempt)
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                attempt += 1
            }
        }
    }

    /// `error` with the number of tries said.
    static func exhausted(_ error: any Error, attempts: Int) -> any Error {
        switch error {
        case let ModelError.serverStatus(url, status, message):
            return ModelError.serverStatus(url: url, status: status, message: message + " (\(attempts) tries)")
        case let ModelError.serverUnreachable(url, reason):
            return ModelError.serverUnreachable(url: url, reason: reason + " (\(attempts) tries)")
        default: return error
        }
    }
}

/// An HTTP error with the server's `Retry-After` in seconds, as the transport throws it; only
/// ``RetryPolicy/run(log:_:)`` sees it, and it passes on the error inside.
struct RetryAfter: Error {
    var error: any Error
    var seconds: Double

    /// Runs `body`, attaching `header` (whole seconds, as servers send it; an HTTP date is ignored)
    /// to the error it throws.
    static func attach<T>(_ header: String?, _ body: () throws -> T) throws -> T {
        do { return try body() } catch {
            guard let header, let seconds = Double(header.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 else { throw error }
            throw RetryAfter(error: error, seconds: seconds)
        }
    }

    /// The error and the seconds the server asked for, if it did.
    static func split(_ error: any Error) -> (any Error, Double?) {
        (error as? RetryAfter).map { ($0.error, $0.seconds) } ?? (error, nil)
    }
}

/// The retries a server's requests needed, shared by every copy of the ``OpenAIServer`` (for the
/// report: a number that needed them is still right, but the reader should know).
public final class RetryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String: Int] = [:]

    public init() {}

    func record(_ reason: String) {
        lock.lock()
        reasons[reason, default: 0] += 1
        lock.unlock()
    }

    /// Retries so far.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return reasons.values.reduce(0, +)
    }

    /// "3 requests repeated (HTTP 503 ×2, no answer ×1)", or nil when none was.
    public var summary: String? {
        lock.lock()
        let reasons = reasons
        lock.unlock()
        let total = reasons.values.reduce(0, +)
        guard total > 0 else { return nil }
        let parts = reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
        return "\(total) request\(total == 1 ? "" : "s") repeated (\(parts.joined(separator: ", ")))"
    }
}
