/// The `13a` tokenizer: mteval-v13a.pl as sacrebleu 2.6.0 `Tokenizer13a` implements it.
///
/// Removes `<skipped>`, joins `-\n`, maps `\n` to a space, unescapes `&quot; &amp; &lt; &gt;`,
/// pads with spaces and applies `TokenizerRegexp`'s four passes.
public struct Tokenizer13a: MTTokenizer {
    public static let name = "13a"

    public init() {}

    private static let skipped = Array("<skipped>".utf8)

    public func tokenize(_ line: String) -> [UInt8] {
        var bytes = Array(line.utf8)
        if bytes.contains(0x3C) { bytes = ByteRewrite.replace(bytes, Self.skipped, []) }
        if bytes.contains(0x0A) {
            bytes = ByteRewrite.replace(bytes, [0x2D, 0x0A], [])
            bytes = ByteRewrite.replace(bytes, [0x0A], [0x20])
        }
        if bytes.contains(0x26) {
            bytes = ByteRewrite.replace(bytes, Array("&quot;".utf8), [0x22])
            bytes = ByteRewrite.replace(bytes, Array("&amp;".utf8), [0x26])
            bytes = ByteRewrite.replace(bytes, Array("&lt;".utf8), [0x3C])
            bytes = ByteRewrite.replace(bytes, Array("&gt;".utf8), [0x3E])
        }
        return ByteRewrite.regexpPasses(bytes, padded: true)
    }
}
