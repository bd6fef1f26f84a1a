/// `body`'s value, or nil when the task was cancelled while it ran: a served model's request in
/// flight is cancelled with the task (the transport throws `CancellationError`), and the caller
/// stops with the parts it has, as it does between parts — so Ctrl-C gives the partial result
/// in-process and served alike. Any other error is thrown, cancelled or not: a server that failed
/// while the user pressed Ctrl-C is still named.
func unlessCancelled<T>(_ body: () async throws -> T) async throws -> T? {
    do { return try await body() } catch is CancellationError where Task.isCancelled { return nil }
}
