import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
private let systemClose = Glibc.close
private let systemConnect = Glibc.connect
private let streamSocket = Int32(SOCK_STREAM.rawValue)
/// `send` flag: no SIGPIPE when the server has gone.
private let noSignal = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let systemClose = Darwin.close
private let systemConnect = Darwin.connect
private let streamSocket = SOCK_STREAM
private let noSignal: Int32 = 0  // SO_NOSIGPIPE is set on the socket instead
#endif

/// A minimal HTTP/1.1 client for plain `http://` on blocking POSIX sockets, one thread per
/// request, for measuring streamed latencies.
///
/// Why not URLSession: on Linux its libcurl event loop spins (≈ 6,000 epoll/futex round trips a
/// second while a stream is open, about one core busy for a single request), which on a small
/// machine takes CPU from the server being measured. Here a thread sleeps in `read()` and stamps
/// the monotonic clock the moment bytes arrive. `https://` goes through URLSession.
enum SocketHTTP {
    /// Sends `request` (method, URL, headers, body) and calls `received(bytes, arrival)` with the
    /// decoded body (chunked transfer encoding undone) as it arrives.
    /// - Returns: the HTTP status and the `Retry-After` header, if any.
    /// - Throws: `ModelError.serverUnreachable` on connection, timeout or framing errors.
    static func exchange(_ request: URLRequest, timeout: TimeInterval, connection: Connection,
                         received: (Data, UInt64) -> Void) throws -> (status: Int, retryAfter: String?) {
        guard let url = request.url, let host = url.host else { throw ModelError.serverUnreachable(url: "?", reason: "the URL has no host") }
        let port = url.port ?? 80
        let fd = try connect(host: host, port: port, timeout: timeout, url: url.absoluteString)
        connection.attach(fd)
        defer { connection.close() }
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        var head = "\(request.httpMethod ?? "GET") \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nAccept: */*\r\n"
        for (name, value) in request.allHTTPHeaderFields ?? [:] { head += "\(name): \(value)\r\n" }
        if let body = request.httpBody { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try write(fd, Data(head.utf8) + (request.httpBody ?? Data()), url: url.absoluteString)

        var reader = Reader(fd: fd, url: url.absoluteString)
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw ModelError.serverProtocol(url: url.absoluteString, message: "not an HTTP/1.x status line: \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        while true {
            let line = try reader.line()
            if line.isEmpty { break }
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                let sizeLine = try reader.line()
                let sizeField = sizeLine.split(separator: ";", omittingEmptySubsequences: false).first ?? ""
                guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                    throw ModelError.serverProtocol(url: url.absoluteString, message: "bad chunk size '\(sizeLine.prefix(40))'")
                }
                if size == 0 { break }
                try reader.read(count: size, into: received)
                _ = try reader.line()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            try reader.read(count: length, into: received)
        } else {
            try reader.readToEnd(into: received)
        }
        return (status, headers["retry-after"])
    }

    /// The socket of a request in flight, closable from another thread (cancellation).
    final class Connection: @unchecked Sendable {
        private let lock = NSLock()
        private var fd: Int32 = -1
        private var cancelled = false

        var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

        func attach(_ descriptor: Int32) {
            lock.lock()
            fd = descriptor
            let stop = cancelled
            lock.unlock()
            if stop { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }

        /// Unblocks a pending read; the request then fails.
        func cancel() {
            lock.lock()
            cancelled = true
            let descriptor = fd
            lock.unlock()
            if descriptor >= 0 { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }

        func close() {
            lock.lock()
            let descriptor = fd
            fd = -1
            lock.unlock()
            if descriptor >= 0 { _ = systemClose(descriptor) }
        }
    }

    static func connect(host: String, port: Int, timeout: TimeInterval, url: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocket
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw ModelError.serverUnreachable(url: url, reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { continue }
            // An infinite or absurd timeout means "wait as long as the kernel allows", not a trap in Int(_:).
            let bounded = timeout.isFinite ? min(max(timeout, 0.001), 1e9) : 1e9
            var seconds = timeval(tv_sec: Int(bounded), tv_usec: .init((bounded - bounded.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            #if canImport(Darwin)
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if systemConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            reason = String(cString: strerror(errno))
            _ = systemClose(fd)
        }
        throw ModelError.serverUnreachable(url: url, reason: reason)
    }

    static func write(_ fd: Int32, _ data: Data, url: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = send(fd, buffer.baseAddress! + offset, buffer.count - offset, noSignal)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ModelError.serverUnreachable(url: url, reason: "sending the request failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Buffered reads that stamp each `read()` with the monotonic clock.
    struct Reader {
        let fd: Int32
        let url: String
        var buffer = Data()
        /// When the bytes now at the front of `buffer` arrived.
        var arrival: UInt64 = 0
        private var scratch = [UInt8](repeating: 0, count: 65_536)

        init(fd: Int32, url: String) {
            self.fd = fd
            self.url = url
        }

        /// Reads once; false at the end of the stream.
        mutating func fill() throws -> Bool {
            while true {
                let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n > 0 {
                    arrival = DispatchTime.now().uptimeNanoseconds
                    buffer.append(contentsOf: scratch[0..<n])
                    return true
                }
                if n == 0 { return false }
                if errno == EINTR { continue }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "no data within the timeout" : String(cString: strerror(errno))
                throw ModelError.serverUnreachable(url: url, reason: reason)
            }
        }

        /// One CRLF- (or LF-) terminated line, without the terminator.
        mutating func line() throws -> String {
            while true {
                if let newline = buffer.firstIndex(of: 0x0A) {
                    var end = newline
                    if end > buffer.startIndex, buffer[buffer.index(before: end)] == 0x0D { end = buffer.index(before: end) }
                    let text = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    return text
                }
                guard buffer.count < 65_536 else { throw ModelError.serverProtocol(url: url, message: "a header or chunk line is longer than 64 KiB") }
                guard try fill() else { throw ModelError.serverUnreachable(url: url, reason: "the connection closed in the middle of the response") }
            }
        }

        /// Passes on exactly `count` bytes, as they arrive.
        mutating func read(count: Int, into received: (Data, UInt64) -> Void) throws {
            var remaining = count
            while remaining > 0 {
                if buffer.isEmpty, try !fill() {
                    throw ModelError.serverUnreachable(url: url, reason: "the connection closed with \(remaining) byte(s) of the response missing")
                }
                let take = min(remaining, buffer.count)
                received(Data(buffer.prefix(take)), arrival)
                buffer.removeFirst(take)
                remaining -= take
            }
        }

        /// Passes on everything until the server closes the connection.
        mutating func readToEnd(into received: (Data, UInt64) -> Void) throws {
            repeat {
                if !buffer.isEmpty { received(buffer, arrival) }
                buffer.removeAll()
            } while try fill()
        }
    }
}
