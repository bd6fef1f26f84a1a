import AssayTestSupport
import Foundation
import Testing

/// `https://` endpoints through the real TLS stack: a loopback Python server with a certificate
/// made for the test, trusted through `SSL_CERT_FILE` as Python's clients read it; refused,
/// with the remedy named, without it. The load test's own CPU time shows the client asleep
/// between events (a client polling its sockets would keep a core busy for the whole stream).
struct TLSEndpointTests {
    /// Serves `/v1/models` and slow streamed completions over TLS on a port of its own, and on
    /// `{port}` (plain HTTP) answers `/ready` and `/tls-port` so that the test can find it.
    static let script = """
        import http.server, json, ssl, sys, threading, time
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self):
                if self.path == "/tls-port":
                    body = str(tls.server_address[1]).encode()
                else:
                    body = json.dumps({"data": [{"id": "m"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                # Chunked, as uvicorn (vLLM) and llama-server stream.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                def chunk(data):
                    self.wfile.write(b"%x\\r\\n%s\\r\\n" % (len(data), data))
                    self.wfile.flush()
                for i in range(6):
                    time.sleep(0.25)
                    chunk(('data: {"choices":[{"index":0,"text":"t%d","finish_reason":null}]}\\n\\n' % i).encode())
                chunk(b"data: [DONE]\\n\\n")
                chunk(b"")
            def log_message(self, *args): pass
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        tls.socket = context.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
        """

    /// A CONNECT proxy on `{port}` (answering anything else with 405, which `/ready` gets): each
    /// tunnel's target and `Proxy-Authorization` go to the file `argv[2]`, a line each.
    static let proxyScript = """
        import socket, sys, threading
        log = open(sys.argv[2], "a", buffering=1)
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(sys.argv[1])))
        listener.listen(64)
        def pipe(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data: break
                    sink.sendall(data)
            except OSError: pass
            finally:
                try: sink.shutdown(socket.SHUT_WR)
                except OSError: pass
        def handle(client):
            head = b""
            while b"\\r\\n\\r\\n" not in head:
                data = client.recv(4096)
                if not data: return client.close()
                head += data
            lines = head.split(b"\\r\\n")
            method, target = lines[0].split(b" ")[:2]
            if method != b"CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
                return client.close()
            auth = [l.split(b":", 1)[1].strip().decode() for l in lines[1:] if l.lower().startswith(b"proxy-authorization:")]
            log.write("CONNECT %s %s\\n" % (target.decode(), auth[0] if auth else "-"))
            host, port = target.decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
            rest = head.split(b"\\r\\n\\r\\n", 1)[1]
            if rest: upstream.sendall(rest)
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
            pipe(client, upstream)
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=handle, args=(connection,), daemon=True).start()
        """

    @Test func httpsEndpointsStreamWithTheTrustedCertificateAndAreRefusedWithout() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a certificate (scripts/install-system-packages.sh installs it)")
        let child = try ChildServer.start(python: "python3", arguments: ["-c", Self.script, "{port}", certificate, key], ready: "ready")
        defer { withExtendedLifetime(child) {} }
        let port = try String(decoding: Data(contentsOf: URL(string: "http://127.0.0.1:\(child.port)/tls-port")!), as: UTF8.self)
        let endpoint = "https://127.0.0.1:\(port)/v1"
        let prompts = directory.appendingPathComponent("prompts.txt")
        try "Hello\nWorld\n".write(to: prompts, atomically: true, encoding: .utf8)
        let arguments = ["bench-serve", "--endpoint", endpoint, "--model", "m", "--prompts", prompts.path, "--num-prompts", "4",
                         "--output-len", "6", "--max-concurrency", "2", "--warmup", "0", "--format", "json"]

        // Not trusted: refused before any load, with what to do.
        let refused = try AssayProcess.run(arguments, environment: ["SSL_CERT_FILE": ""])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("TLS handshake failed (CERTIFICATE_VERIFY_FAILED)") && refused.stderr.contains("SSL_CERT_FILE"), "\(refused.stderr)")
        let unreadable = try AssayProcess.run(arguments, environment: ["SSL_CERT_FILE": directory.appendingPathComponent("none.pem").path])
        #expect(unreadable.status != 0 && unreadable.stderr.contains("not a readable PEM file"), "\(unreadable.stderr)")
        // Each says what to fix on this side, not "start the server".
        #expect(refused.stderr.contains("its certificate is trusted here") && !refused.stderr.contains("start the server"), "\(refused.stderr)")
        #expect(unreadable.stderr.contains("point SSL_CERT_FILE at a readable PEM file") && !unreadable.stderr.contains("start the server"),
                "\(unreadable.stderr)")

        // Trusted: every event of every stream arrives, stamped as it comes (six events 0.25 s apart).
        let result = try AssayProcess.run(arguments, environment: ["SSL_CERT_FILE": certificate])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["completed"] as? Int == 4 && row["failed"] as? Int == 0, "\(row)")
        #expect(row["total_output_tokens"] as? Int == 24)
        let itl = try #require(row["mean_itl_ms"] as? Double)
        #expect(itl > 200 && itl < 400, "mean ITL \(itl) ms")
        // Two streams of 1.5 s at a time for about 3 s: a client asleep between events uses a few
        // percent of one core; one polling its sockets would use most of it.
        let cpu = try #require(row["client_cpu_pct"] as? Double)
        #expect(cpu < 25, "the client used \(cpu) % of a core while waiting for events")

        // Through a CONNECT proxy named by https_proxy, with a password: the same streams tunnelled
        // (TLS end to end), the credentials sent to the proxy only, and no message repeating them.
        let proxyLog = directory.appendingPathComponent("proxy.log")
        let proxy = try ChildServer.start(python: "python3", arguments: ["-c", Self.proxyScript, "{port}", proxyLog.path], ready: "ready")
        defer { withExtendedLifetime(proxy) {} }
        let credentials = "tester:s3cret-pw"
        let viaProxy = ["SSL_CERT_FILE": certificate, "https_proxy": "http://\(credentials)@127.0.0.1:\(proxy.port)", "no_proxy": "", "NO_PROXY": ""]
        let proxied = try AssayProcess.run(arguments, environment: viaProxy)
        #expect(proxied.status == 0, "\(proxied.stderr)")
        let tunnels = try String(contentsOf: proxyLog, encoding: .utf8).split(separator: "\n")
        let expected = "CONNECT 127.0.0.1:\(port) Basic \(Data(credentials.utf8).base64EncodedString())"
        #expect(tunnels.count >= 5 && tunnels.allSatisfy { $0 == expected }, "\(tunnels)")
        // no_proxy keeps the endpoint's connections direct.
        let direct = try AssayProcess.run(arguments, environment: viaProxy.merging(["no_proxy": "localhost, 127.0.0.1"]) { $1 })
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(try String(contentsOf: proxyLog, encoding: .utf8).split(separator: "\n").count == tunnels.count)
        // A proxy that is not there: the error says which way the connection went.
        let nowhere = try ChildServer.freePort()
        let broken = try AssayProcess.run(arguments, environment: viaProxy.merging(["https_proxy": "http://\(credentials)@127.0.0.1:\(nowhere)"]) { $1 })
        #expect(broken.status != 0 && broken.stderr.contains("(through the proxy http://127.0.0.1:\(nowhere) from https_proxy)"), "\(broken.stderr)")
        #expect(![proxied, direct, broken].contains { $0.stderr.contains("s3cret") || $0.stdout.contains("s3cret") })
    }
}
