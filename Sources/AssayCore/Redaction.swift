import Foundation

/// Keeps credentials out of everything Assay prints, reports or stores: URL user-info and
/// key-like query parameters are masked wherever a URL is shown, and the values of the secrets in
/// use — API keys read from the environment, credentials found in endpoint URLs — are replaced by
/// `***` wherever they appear (a server's error message that echoes the key included).
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "***"
    /// Query parameters whose values are credentials (compared lowercased, `-` as `_`).
    static let keyLikeParameters: Set<String> = ["key", "api_key", "apikey", "x_api_key", "token", "access_token", "auth", "authorization",
                                                 "secret", "client_secret", "password", "passwd", "sig", "signature", "code"]
    /// Environment variables that hold API keys (their values are registered at start).
    public static let keyVariables = ["OPENAI_API_KEY", "ASSAY_API_KEY", "HF_TOKEN"]

    nonisolated(unsafe) private static var secrets: Set<String> = []
    private static let lock = NSLock()

    /// Registers a secret value; shorter than 4 characters it is ignored (it would mask ordinary text).
    public static func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        lock.lock()
        secrets.insert(secret)
        lock.unlock()
    }

    /// Registers the values of ``keyVariables`` set in `environment`.
    public static func registerKeys(from environment: [String: String]) {
        for name in keyVariables { if let value = environment[name] { register(value) } }
    }

    /// `url` as text with its user-info and key-like query values masked; the credentials found
    /// are registered, so an echo of them elsewhere is masked too.
    public static func url(_ url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return scrub(url.absoluteString) }
        if let user = parts.user { register(user.removingPercentEncoding ?? user) }
        if let password = parts.password { register(password.removingPercentEncoding ?? password) }
        if parts.user != nil || parts.password != nil {
            parts.percentEncodedUser = mask
            parts.percentEncodedPassword = nil
        }
        if let items = parts.percentEncodedQueryItems {
            parts.percentEncodedQueryItems = items.map { item in
                guard isKeyLike(item.name), let value = item.value, !value.isEmpty else { return item }
                register(value.removingPercentEncoding ?? value)
                return URLQueryItem(name: item.name, value: mask)
            }
        }
        return parts.string ?? scrub(url.absoluteString)
    }

    static func isKeyLike(_ name: String) -> Bool {
        keyLikeParameters.contains(name.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    // scheme://user[:password]@ and ?key=value / &key=value in free text.
    // A backslash ends a value: in JSON text it escapes the quote that closes the string, which a
    // mask must not swallow.
    private static let userInfo = pattern(#"([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@'"<>\\]+@"#)
    private static let queryValue = pattern(#"([?&]([A-Za-z_\-]+)=)([^&#\s'"<>\\]+)"#)
    private static let bearer = pattern(#"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{4,}"#)

    /// A pattern of this file (constants; a failure is a programming error, never input's).
    private static func pattern(_ text: String) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: text) } catch { preconditionFailure("invalid built-in pattern \(text): \(error)") }
    }

    /// Whether `text` contains `needle`, by a scan of its UTF-8 bytes (`ignoringCase`: ASCII
    /// letters). Foundation's `contains` had cost more than the whole scrub's work on long text.
    static func holds(_ text: String, _ needle: String, ignoringCase: Bool = false) -> Bool {
        let fold: UInt8 = ignoringCase ? 0x20 : 0
        let pattern = needle.utf8.map { $0 | fold }
        guard let first = pattern.first else { return true }
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= pattern.count else { return false }
            var i = 0
            let last = bytes.count - pattern.count
            while i <= last {
                if bytes[i] | fold == first {
                    var j = 1
                    while j < pattern.count, bytes[i + j] | fold == pattern[j] { j += 1 }
                    if j == pattern.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// Registered secrets this long or longer are masked in texts a model wrote (API keys and
    /// tokens are 20 characters and more); shorter ones (a URL's user name, "admin") are words
    /// such texts hold, and masking them would change the numbers computed from the texts.
    public static let shortestSecretInTexts = 12

    /// `text` with every registered secret of at least ``shortestSecretInTexts`` characters (an
    /// API key's value) masked and nothing else: for texts a model wrote, which must stay as they
    /// are ("bearer bonds", `?code=…` in a sentence) except for a key a server echoed into them.
    public static func maskSecrets(_ text: String) -> String {
        mask(text, secretsOfAtLeast: shortestSecretInTexts)
    }

    private static func mask(_ text: String, secretsOfAtLeast length: Int) -> String {
        lock.lock()
        let known = secrets.filter { $0.count >= length }.sorted { $0.count > $1.count }
        lock.unlock()
        var result = text
        for secret in known where holds(result, secret) { result = result.replacingOccurrences(of: secret, with: mask) }
        return result
    }

    /// `text` with every registered secret, URL user-info, key-like query value and bearer token masked.
    public static func scrub(_ text: String) -> String {
        var result = mask(text, secretsOfAtLeast: 0)
        // Each pattern runs only on text that has its anchor: a pattern pass over a long result
        // (100,000 sentence scores, each with "BP = …") costs more than computing the scores.
        let whole = { (s: String) in NSRange(s.startIndex..., in: s) }
        if holds(result, "://") {
            result = userInfo.stringByReplacingMatches(in: result, range: whole(result), withTemplate: "$1\(mask)@")
        }
        if holds(result, "bearer", ignoringCase: true) {
            result = bearer.stringByReplacingMatches(in: result, range: whole(result), withTemplate: "$1\(mask)")
        }
        guard holds(result, "="), holds(result, "?") || holds(result, "&") else { return result }
        var output = ""
        var cursor = result.startIndex
        for match in queryValue.matches(in: result, range: whole(result)) {
            guard let name = Range(match.range(at: 2), in: result), isKeyLike(String(result[name])),
                  let value = Range(match.range(at: 3), in: result) else { continue }
            output += result[cursor..<value.lowerBound] + mask
            cursor = value.upperBound
        }
        return output + result[cursor...]
    }
}
