/// The `char` tokenizer as sacrebleu 2.6.0 `TokenizerChar`: every code point is a token
/// (whitespace disappears when the result is split).
public struct TokenizerChar: MTTokenizer {
    public static let name = "char"

    public init() {}

    public func tokenize(_ line: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.utf8.count * 2)
        for scalar in line.unicodeScalars {
            out.append(contentsOf: String(scalar).utf8)
            out.append(0x20)
        }
        return out
    }
}
