import Foundation

/// The proxy a request goes through, read from the environment as Python's clients read it
/// (urllib, requests, and aiohttp with `trust_env`, which vLLM's benchmark client sets):
/// `https_proxy` / `HTTPS_PROXY` for an `https://` endpoint, `http_proxy` / `HTTP_PROXY` for an
/// `http://` one, `all_proxy` / `ALL_PROXY` for either (the lower-case name first), unless the
/// endpoint's host is in `no_proxy` / `NO_PROXY`.
///
/// A proxy is `http://[user:password@]host[:port]` (port 80 by default; `host:port` alone is read
/// as http) — AsyncHTTPClient opens a `CONNECT` tunnel through it for both schemes, so TLS stays
/// between Assay and the endpoint — or `socks5://host[:port]` (1080 by default, no password).
/// `no_proxy` lists hosts separated by commas: `*` (every host), a name that also covers its
/// subdomains (`example.org`, `.example.org`), `host:port`, an address, or an IPv4 range in CIDR
/// notation (`10.0.0.0/8`).
struct ProxyEnvironment: Equatable {
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var socks: Bool
    /// The variable it came from (for errors).
    var variable: String

    /// `host:port from VARIABLE`: the proxy as errors name it, never with its password.
    var description: String { "\(socks ? "socks5" : "http")://\(host):\(port) from \(variable)" }

    /// The proxy for a request to `url`, or nil for a direct connection.
    /// - Throws: `ModelError.serverUnreachable` for a proxy value this client cannot use (an
    ///   `https://` proxy, a SOCKS proxy with a password, no host), naming the variable without
    ///   repeating its credentials.
    static func proxy(for url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProxyEnvironment? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        let names = ["\(scheme)_proxy", "\(scheme.uppercased())_PROXY", "all_proxy", "ALL_PROXY"]
        guard let variable = names.first(where: { !(environment[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }),
              let value = environment[variable]?.trimmingCharacters(in: .whitespaces) else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        if let list = environment["no_proxy"] ?? environment["NO_PROXY"], bypasses(host: host, port: port, list: list) { return nil }
        func unusable(_ why: String) -> ModelError {
            ModelError.serverUnreachable(url: url.absoluteString, reason: "\(variable) names a proxy this client cannot use: \(why)")
        }
        let text = value.contains("://") ? value : "http://" + value
        // An IPv6 proxy is written [addr]:port; the resolver wants the address alone.
        guard let parts = URLComponents(string: text),
              let proxyHost = parts.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !proxyHost.isEmpty else {
            throw unusable("it is not a URL with a host (expected http://HOST:PORT)")
        }
        // A port written but not a port (99999 would wrap to another one; too many digits would read as none).
        if parts.rangeOfPort != nil, !(1...65535).contains(parts.port ?? 0) {
            throw unusable("its port is not 1…65535")
        }
        let proxyScheme = parts.scheme?.lowercased() ?? "http"
        let socks = ["socks5", "socks5h", "socks"].contains(proxyScheme)
        guard socks || proxyScheme == "http" else {
            throw unusable("the scheme \(proxyScheme):// (supported: http:// and socks5://)")
        }
        if socks, parts.user != nil {
            throw unusable("a SOCKS proxy with a user name or password (supported: an http:// proxy with one, or a SOCKS proxy without)")
        }
        return ProxyEnvironment(host: proxyHost, port: parts.port ?? (socks ? 1080 : 80), username: parts.user, password: parts.password,
                                socks: socks, variable: variable)
    }

    /// Whether `no_proxy`'s `list` covers `host` (lower-case, no brackets) at `port`. An address
    /// matches only itself or a CIDR range; a name also covers its subdomains.
    static func bypasses(host: String, port: Int, list: String) -> Bool {
        let entries = list.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }
        let address = IPv4Range.address(host) != nil || host.contains(":")
        for entry in entries {
            if entry == "*" { return true }
            if entry.contains("/") {
                if let range = IPv4Range(entry), let number = IPv4Range.address(host), range.contains(number) { return true }
                continue
            }
            var name = Substring(entry), wanted: Int?
            if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
                // [IPv6]:port or [IPv6]
                let rest = name[name.index(after: close)...]
                if rest.hasPrefix(":") {
                    guard let p = Int(rest.dropFirst()) else { continue }
                    wanted = p
                }
                name = name[name.index(after: name.startIndex)..<close]
            } else if let colon = name.lastIndex(of: ":"), name.firstIndex(of: ":") == colon, let p = Int(name[name.index(after: colon)...]) {
                // host:port — a bare IPv6 address has colons of its own and no port.
                wanted = p
                name = name[..<colon]
            }
            guard wanted == nil || wanted == port else { continue }
            if address {
                if host == name { return true }
                continue
            }
            while name.hasPrefix("*") || name.hasPrefix(".") { name = name.dropFirst() }
            guard !name.isEmpty else { continue }
            if host == name || host.hasSuffix("." + name) { return true }
        }
        return false
    }

    /// An IPv4 network, `a.b.c.d/n`.
    struct IPv4Range {
        var network: UInt32
        var mask: UInt32

        init?(_ text: String) {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits), let address = Self.address(String(parts[0])) else { return nil }
            mask = bits == 0 ? 0 : UInt32.max << (32 - bits)
            network = address & mask
        }

        func contains(_ address: UInt32) -> Bool { address & mask == network }

        /// A dotted IPv4 address as a number, or nil.
        static func address(_ text: String) -> UInt32? {
            let octets = text.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4 else { return nil }
            var value: UInt32 = 0
            for octet in octets {
                guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
                value = value << 8 | UInt32(byte)
            }
            return value
        }
    }
}
