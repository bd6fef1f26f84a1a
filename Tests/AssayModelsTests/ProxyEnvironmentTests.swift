@testable import AssayModels
import Foundation
import Testing

/// Which proxy a request takes, from the variables Python's clients read (a real tunnel through
/// a CONNECT proxy is in TLSEndpointTests).
struct ProxyEnvironmentTests {
    static let api = URL(string: "https://api.example.org/v1/completions")!

    @Test func theVariablesAsPythonReadsThem() throws {
        #expect(try ProxyEnvironment.proxy(for: Self.api, environment: [:]) == nil)
        let corp = try #require(try ProxyEnvironment.proxy(for: Self.api, environment: ["HTTPS_PROXY": "http://me:p%40ss@proxy.corp:3128"]))
        #expect(corp == ProxyEnvironment(host: "proxy.corp", port: 3128, username: "me", password: "p@ss", socks: false, variable: "HTTPS_PROXY"))
        #expect(corp.description == "http://proxy.corp:3128 from HTTPS_PROXY")
        // The lower-case name first; an http:// endpoint reads http_proxy; all_proxy for either.
        #expect(try ProxyEnvironment.proxy(for: Self.api, environment: ["HTTPS_PROXY": "a:1", "https_proxy": "b:2"])?.host == "b")
        let plain = URL(string: "http://10.1.2.3:8000/v1")!
        #expect(try ProxyEnvironment.proxy(for: plain, environment: ["HTTPS_PROXY": "a:1"]) == nil)
        #expect(try ProxyEnvironment.proxy(for: plain, environment: ["HTTP_PROXY": "a:1"])?.port == 1)
        #expect(try ProxyEnvironment.proxy(for: plain, environment: ["ALL_PROXY": "socks5://s"]) ==
            ProxyEnvironment(host: "s", port: 1080, username: nil, password: nil, socks: true, variable: "ALL_PROXY"))
        #expect(try ProxyEnvironment.proxy(for: plain, environment: ["http_proxy": "proxy.corp"])?.port == 80)
        #expect(try ProxyEnvironment.proxy(for: plain, environment: ["http_proxy": "  "]) == nil)
        // What it cannot use is refused, naming the variable and never the password.
        #expect(try ProxyEnvironment.proxy(for: Self.api, environment: ["https_proxy": "http://[::1]:3128"])?.host == "::1")
        for value in ["https://me:hunter2@proxy.corp:443", "socks5://me:hunter2@s:1080", "http://:8080", "http://me:hunter2@p:99999",
                      "http://me:hunter2@p:9999999999999999999999", "ftp://me:hunter2@p"] {
            do {
                _ = try ProxyEnvironment.proxy(for: Self.api, environment: ["https_proxy": value])
                Issue.record("\(value) accepted")
            } catch let error as ModelError {
                let text = error.errorDescription ?? ""
                #expect(text.contains("https_proxy names a proxy this client cannot use") && !text.contains("hunter2"), "\(text)")
            }
        }
    }

    @Test func noProxyAsPythonReadsIt() throws {
        func direct(_ url: String, _ list: String) throws -> Bool {
            try ProxyEnvironment.proxy(for: URL(string: url)!, environment: ["https_proxy": "p:1", "http_proxy": "p:1", "no_proxy": list]) == nil
        }
        #expect(try direct("https://api.example.org/v1", "*"))
        #expect(try direct("https://api.example.org/v1", "localhost, example.org"))
        #expect(try direct("https://example.org/v1", ".example.org"))
        #expect(try !direct("https://badexample.org/v1", "example.org"))
        #expect(try direct("http://vllm.svc:8000/v1", "vllm.svc:8000"))
        #expect(try !direct("http://vllm.svc:8001/v1", "vllm.svc:8000"))
        #expect(try direct("https://api.example.org/v1", "api.example.org:443"))
        #expect(try direct("http://10.1.2.3:8000/v1", "10.0.0.0/8"))
        #expect(try !direct("http://11.0.0.1:8000/v1", "10.0.0.0/8,bogus/99"))
        #expect(try direct("http://127.0.0.1:8000/v1", "127.0.0.1"))
        #expect(try direct("http://[::1]:8000/v1", "::1"))
        #expect(try direct("http://[::1]:8000/v1", "[::1]:8000") && !direct("http://[::1]:8000/v1", "[::1]:9000"))
        // An address matches itself or a range, never as a name's suffix.
        #expect(try !direct("http://127.0.0.1:8000/v1", "0.1") && !direct("http://127.0.0.1:8000/v1", ".0.0.1"))
        #expect(try !direct("http://127.0.0.1:8000/v1", ""))
        // NO_PROXY when no_proxy is not set.
        #expect(try ProxyEnvironment.proxy(for: Self.api, environment: ["https_proxy": "p:1", "NO_PROXY": "example.org"]) == nil)
    }
}
