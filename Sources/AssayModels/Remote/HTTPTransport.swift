import AssayCore
import AsyncHTTPClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP client under ``EventStream``: AsyncHTTPClient on SwiftNIO's event loops, for `http://`
/// and `https://` alike.
///
/// Why this client: the event loops sleep in `epoll` until bytes arrive, and the body handler
/// stamps the monotonic clock on the loop the moment they do. URLSession on Linux (libcurl) spins
/// about one core while a stream is open, which on a small machine takes CPU from the server being
/// measured; the blocking-socket client this replaced spoke no TLS.
///
/// Each request gets a connection of its own (one use per connection), as vLLM's
/// benchmark_serving opens an aiohttp session per request, so that a time to first token measured
/// here includes the same connection set-up as theirs. Redirects are not followed: an
/// `Authorization` header must not travel to a host the suite did not name. `https://` trusts the
/// system's certificate authorities, or only those in the file `SSL_CERT_FILE` names (as Python's
/// ssl, requests and the OpenAI client read it) — for a server behind a private CA. A proxy named
/// by `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy` is used as Python's clients use it
/// (``ProxyEnvironment``).
enum HTTPTransport {
    /// The largest body read (a scoring answer for 4,096 tokens with 20 alternatives each is about
    /// 10 MB); a server sending more is refused instead of filling memory.
    static let maximumBodyBytes = 256 << 20

    /// Sends `request` and collects the response, its body cut into server-sent events as it arrives
    /// (``EventStream/EventCutter``, stamped on the connection's event loop).
    /// - Parameter timeout: the longest wait for a connection and, after it, between two reads;
    ///   the whole exchange may take ``wholeAnswerFactor`` times as long (a server that sent a
    ///   byte a second had been waited on without end; found by probing, 2026-12-07).
    /// - Throws: `ModelError.serverUnreachable` (with the reasons ``RetryPolicy`` reads),
    ///   `.serverProtocol` for an answer that is not HTTP/1.1, `.serverStatus` for a status other
    ///   than 2xx; `CancellationError` when the task is cancelled.
    static func exchange(_ request: URLRequest, timeout: TimeInterval, maximumEvents: Int? = nil) async throws -> EventStream.Result {
        let url = request.url?.absoluteString ?? "?"
        let outgoing: HTTPClient.Request
        let proxy: ProxyEnvironment?
        do {
            guard let target = request.url else { throw ModelError.serverUnreachable(url: url, reason: "the request has no URL") }
            proxy = try ProxyEnvironment.proxy(for: target)
            var headers = HTTPHeaders()
            for (name, value) in request.allHTTPHeaderFields ?? [:] { headers.add(name: name, value: value) }
            outgoing = try HTTPClient.Request(url: target, method: HTTPMethod(rawValue: request.httpMethod ?? "GET"),
                                              headers: headers, body: request.httpBody.map { .bytes($0) })
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.serverUnreachable(url: url, reason: "not a URL this client can call (\(error))")
        }
        let collector = Collector(url: url, maximumEvents: maximumEvents)
        // The delegate runs on the connection's own loop, so an arrival is stamped where it is read.
        let loop = HTTPClient.defaultEventLoopGroup.next()
        let whole = Self.wholeAnswerSeconds(timeout)
        let task = try client(timeout: timeout, https: outgoing.url.scheme == "https", url: url, proxy: proxy)
            .execute(request: outgoing, delegate: collector, eventLoop: .delegateAndChannel(on: loop),
                     deadline: .now() + .nanoseconds(Int64(whole * 1e9)))
        return try await withTaskCancellationHandler {
            do {
                return try await task.futureResult.get()
            } catch {
                if let client = error as? HTTPClientError, client == .deadlineExceeded {
                    throw ModelError.serverUnreachable(
                        url: url, reason: "the answer took longer than \(Int(whole)) s in all (\(Int(Self.wholeAnswerFactor)) × the timeout): the server sends too slowly")
                }
                let problem = failure(error, url: url)
                // Through a proxy, "connection refused" may be the proxy's: say which way it went.
                if let proxy, case let ModelError.serverUnreachable(url, reason) = problem {
                    throw ModelError.serverUnreachable(url: url, reason: reason + " (through the proxy \(proxy.description))")
                }
                throw problem
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// How many timeouts one whole answer may take: a long generation streams for minutes while
    /// no read waits long, but a server sending a byte at a time must end somewhere.
    static let wholeAnswerFactor = 4.0

    /// The longest a whole exchange may take for `timeout` (finite and at most 10⁹ s).
    static func wholeAnswerSeconds(_ timeout: TimeInterval) -> Double {
        timeout.isFinite ? min(max(timeout, 0.001) * wholeAnswerFactor, 1e9) : 1e9
    }

    /// AsyncHTTPClient's errors in the words ``RetryPolicy`` reads (the same the blocking-socket
    /// client and the C library used), so that what is repeated does not depend on the transport.
    static func failure(_ error: any Error, url: String) -> any Error {
        switch error {
        case is ModelError, is RetryAfter, is CancellationError: return error
        case let error as HTTPClientError:
            switch error {
            case .cancelled: return CancellationError()
            case .readTimeout, .connectTimeout, .tlsHandshakeTimeout, .deadlineExceeded:
                return ModelError.serverUnreachable(url: url, reason: "no data within the timeout")
            case .remoteConnectionClosed, .bodyLengthMismatch, .uncleanShutdown:
                return ModelError.serverUnreachable(url: url, reason: "the connection closed in the middle of the response")
            case _ where error.shortDescription.hasPrefix("Invalid header field"):
                return ModelError.serverUnreachable(
                    url: url, reason: "a request header holds a character HTTP does not allow (an API key read with a line break or carriage return at its end?)")
            default:
                // The short form never carries the request's values (its headers hold the API key).
                return ModelError.serverUnreachable(url: url, reason: error.shortDescription.lowercased())
            }
        case HTTPParserError.invalidEOFState:
            // The server closed before the bytes its Content-Length or chunking promised.
            return ModelError.serverUnreachable(url: url, reason: "the connection closed in the middle of the response")
        case NIOSSLError.uncleanShutdown:
            // A TLS connection dropped without close_notify: a body that ends at the close may be cut.
            return ModelError.serverUnreachable(url: url, reason: "the connection closed in the middle of the response (TLS closed without close_notify)")
        case let NIOSSLError.handshakeFailed(reason):
            // BoringSSL's reason ("…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at …") without its source path.
            let text = "\(reason)"
            let name = text.range(of: #"OPENSSL_internal:[A-Z_0-9]+"#, options: .regularExpression)
                .map { String(text[$0].dropFirst("OPENSSL_internal:".count)) } ?? "\(reason)"
            let hint = name == "CERTIFICATE_VERIFY_FAILED"
                ? "; if a private CA signed the server's certificate, set SSL_CERT_FILE to that CA's PEM file" : ""
            return ModelError.serverUnreachable(url: url, reason: "the TLS handshake failed (\(name))\(hint)")
        case is HTTPParserError:
            return ModelError.serverProtocol(url: url, message: "the answer is not HTTP/1.1 (\(error))")
        case let error as IOError:
            // The C library's words for the connection ("connection refused", "connection reset by peer").
            return ModelError.serverUnreachable(url: url, reason: String(cString: strerror(error.errnoCode)).lowercased())
        case let error as NIOConnectionError:
            // A host name: its lookup failed, or every address it resolved to refused.
            if let lookup = error.dnsAError ?? error.dnsAAAAError {
                let detail = (lookup as? SocketAddressError.UnknownHost)?.errorDescription ?? "\(lookup)"
                return ModelError.serverUnreachable(url: url, reason: "cannot resolve \(error.host): \(detail.lowercased())")
            }
            if let first = error.connectionErrors.first {
                return failure(first.error, url: url)
            }
            return ModelError.serverUnreachable(url: url, reason: "no address of \(error.host) answered")
        case let error as SocketAddressError.UnknownHost:
            return ModelError.serverUnreachable(url: url, reason: "cannot resolve \(error.host): \(error.errorDescription.lowercased())")
        case _ where String(reflecting: type(of: error)).hasPrefix("NIOSOCKS."):
            // NIOSOCKS's errors (NoResult(), InvalidProtocolVersion(actual: 72)…) name no cause a user knows.
            return ModelError.serverUnreachable(url: url, reason: "the SOCKS proxy did not complete its handshake (\(type(of: error)))")
        default:
            return ModelError.serverUnreachable(url: url, reason: "\(error)")
        }
    }

    // MARK: - Clients

    private static let lock = NSLock()
    nonisolated(unsafe) private static var clients: [String: HTTPClient] = [:]

    /// The process's client for one timeout and scheme (AsyncHTTPClient's timeouts and TLS
    /// settings belong to the client). Kept for the life of the process: a client costs no thread
    /// of its own (all share NIO's singleton event loops, one per core), and a run uses one or two.
    ///
    /// A connection that cannot be made fails the requests waiting for a connection to that host at
    /// that moment, not only its own (AsyncHTTPClient's pool, with its own retries off so that a
    /// refused connection is reported at once and ``RetryPolicy`` decides). A load test against a
    /// server that refuses connections counts those requests as failed together.
    /// - Throws: `ModelError.serverUnreachable` for `https://` when `SSL_CERT_FILE` names a file
    ///   that is not PEM certificates (plain `http://` never reads it).
    static func client(timeout: TimeInterval, https: Bool, url: String, proxy: ProxyEnvironment? = nil) throws -> HTTPClient {
        // An infinite or absurd timeout means "wait a very long time", not a trap in Int64(_:).
        let seconds = timeout.isFinite ? min(max(timeout, 0.001), 1e9) : 1e9
        let nanoseconds = Int64(seconds * 1e9)
        let certificateFile = https ? ProcessInfo.processInfo.environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 } : nil
        let key = "\(nanoseconds)|\(https)|\(certificateFile ?? "")|" + (proxy.map { "\($0.socks)|\($0.host)|\($0.port)|\($0.username ?? "")|\($0.password ?? "")" } ?? "")
        lock.lock()
        defer { lock.unlock() }
        if let client = clients[key] { return client }
        let limit = TimeAmount.nanoseconds(nanoseconds)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: limit, read: limit))
        // Sending the request is bounded too (a server that never reads a large body).
        configuration.timeout.write = limit
        configuration.httpVersion = .http1Only
        configuration.maximumUsesPerConnection = 1
        // Callers bound their own concurrency (a load test may hold hundreds of streams); the pool
        // must not queue requests behind a limit of its own.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4_096
        configuration.connectionPool.retryConnectionEstablishment = false
        if let proxy {
            configuration.proxy = proxy.socks ? .socksServer(host: proxy.host, port: proxy.port)
                : .server(host: proxy.host, port: proxy.port,
                          authorization: proxy.username.map { .basic(username: $0, password: proxy.password ?? "") })
        }
        if let path = certificateFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw ModelError.serverUnreachable(url: url, reason: "SSL_CERT_FILE names \(path), which is not a readable PEM file of certificates (\(error))")
            }
            guard !certificates.isEmpty else {
                throw ModelError.serverUnreachable(url: url, reason: "SSL_CERT_FILE names \(path), which holds no PEM certificate")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(certificates)
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        clients[key] = client
        return client
    }

    /// Collects one response on its connection's event loop: the status, `Retry-After`, and the
    /// body through an ``EventStream/EventCutter``, stamped at arrival.
    final class Collector: HTTPClientResponseDelegate, @unchecked Sendable {
        typealias Response = EventStream.Result

        // AsyncHTTPClient calls a delegate on one event loop, one call at a time.
        private let url: String
        private var cutter = EventStream.EventCutter()
        private var status = 0
        private var retryAfter: String?
        private var location: String?
        private let maximumEvents: Int?

        init(url: String, maximumEvents: Int?) {
            self.url = url
            self.maximumEvents = maximumEvents
            cutter.start = DispatchTime.now().uptimeNanoseconds
        }

        func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            status = Int(head.status.code)
            retryAfter = head.headers.first(name: "Retry-After")
            location = head.headers.first(name: "Location")
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            let arrival = DispatchTime.now().uptimeNanoseconds
            guard cutter.body.count + buffer.readableBytes <= HTTPTransport.maximumBodyBytes else {
                return task.eventLoop.makeFailedFuture(ModelError.serverProtocol(
                    url: url, message: "the answer is longer than \(HTTPTransport.maximumBodyBytes >> 20) MiB"))
            }
            cutter.append(Data(buffer.readableBytesView), arrival: arrival)
            if let maximumEvents, cutter.blocks > maximumEvents {
                return task.eventLoop.makeFailedFuture(ModelError.serverProtocol(
                    url: url, message: "the stream went on past \(maximumEvents) events without ending, more than the request's max_tokens allow"))
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
            if (300..<400).contains(status) {
                // Not followed (see HTTPTransport); say where it pointed, credentials masked.
                let target = location.map { URL(string: $0).map(Redaction.url) ?? "a location that is not a URL" } ?? "no Location"
                throw ModelError.serverStatus(url: url, status: status,
                                              message: "a redirect to \(target), not followed: give that URL as the endpoint (an API key must not travel to a host the suite did not name)")
            }
            return try RetryAfter.attach(retryAfter) { try cutter.result(status: status, url: url) }
        }
    }
}
