/// A sacrebleu-style signature: `key:value` parts joined by `|`, ending in `version:assay-X`.
///
/// Every number Assay reports carries one, naming each setting that changes it.
public struct Signature: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The parts in order, without the version.
    public var parts: [(key: String, value: String)]

    /// Creates a signature from its parts; the version is appended when formatted.
    public init(_ parts: [(String, String)]) {
        self.parts = parts.map { (key: $0.0, value: $0.1) }
    }

    /// `key:value|…|version:assay-X.Y.Z`.
    public var description: String {
        (parts.map { "\($0.key):\($0.value)" } + ["version:assay-\(AssayVersion.current)"]).joined(separator: "|")
    }

    public static func == (a: Signature, b: Signature) -> Bool { a.description == b.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        parts = text.split(separator: "|").compactMap { part in
            guard let colon = part.firstIndex(of: ":") else { return nil }
            let key = String(part[..<colon]), value = String(part[part.index(after: colon)...])
            return key == "version" ? nil : (key: key, value: value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The version of Assay that appears in signatures and reports.
public enum AssayVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
