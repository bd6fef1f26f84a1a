import Foundation
import Testing

/// A server process a test starts on a free loopback port, killed when the test lets go of it.
///
/// Killed with SIGKILL: the test process blocks SIGTERM (children inherit the mask), so a
/// SIGTERM would leave it running — holding the test runner's pipes open, which hangs `swift test`.
/// Its stderr goes to the null device for the same reason.
public final class ChildServer: @unchecked Sendable {
    public let process: Process
    public let port: Int

    /// The base URL of an OpenAI-compatible API on this server.
    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A loopback port nobody listens on now (the kernel's choice for port 0).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `python` with `arguments` (`{port}` in them replaced by a free port) and waits until
    /// `http://127.0.0.1:port/<ready>` answers, for at most `timeout` seconds.
    public static func start(python: String, arguments: [String], ready: String = "v1/models", timeout: TimeInterval = 60) throws -> ChildServer {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments.map { $0.replacingOccurrences(of: "{port}", with: String(port)) }
        // Its messages go to a file (a pipe nobody reads could fill up and stall it), shown when
        // it does not start.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("assay-child-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        let server = ChildServer(process: process, port: port)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, process.isRunning {
            if answers(URL(string: "http://127.0.0.1:\(port)/\(ready)")!) {
                try? FileManager.default.removeItem(at: log)
                return server
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let messages = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        throw StartFailure(description: "\(python) \(arguments.prefix(3).joined(separator: " ")) did not answer on port \(port) "
                                        + (process.isRunning ? "within \(Int(timeout)) s" : "(it exited)") + ": \(messages.suffix(2000))")
    }

    /// Why a server did not start, with the end of what it printed.
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether a GET to `url` gets any HTTP answer.
    static func answers(_ url: URL) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // A server that accepts and never answers must not hang the test run.
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(url.port ?? 80).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let request = "GET \(url.path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 1
    }
}

extension TestEnvironment {
    /// The Python of the test server's venv (llama-cpp-python; `$ASSAY_SERVER_PYTHON`, which
    /// scripts/test.sh exports).
    public static func serverPython() throws -> String {
        if let python = ProcessInfo.processInfo.environment["ASSAY_SERVER_PYTHON"], FileManager.default.isExecutableFile(atPath: python) {
            return python
        }
        try missing("no llama-cpp-python server venv (ASSAY_SERVER_PYTHON is not set; scripts/test.sh sets it)")
    }
}
