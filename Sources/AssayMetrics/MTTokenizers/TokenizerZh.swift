/// The `zh` tokenizer as sacrebleu 2.6.0 `TokenizerZh`: strip, put spaces around every
/// "Chinese" character, then `TokenizerRegexp`'s four passes (without 13a's padding).
///
/// sacrebleu's range table is kept as it behaves, including two entries written as
/// `'\u20000'` and `'\u2f800'`: in Python these are two-character strings, so the ranges compare
/// as U+2001…U+2A6D and U+2F81…U+2FA1 (general punctuation such as curly quotes and dashes counts
/// as Chinese). Matching sacrebleu means matching that.
public struct TokenizerZh: MTTokenizer {
    public static let name = "zh"

    public init() {}

    static let ranges: [ClosedRange<UInt32>] = [
        0x3400...0x4DB5, 0x4E00...0x9FA5, 0x9FA6...0x9FBB, 0xF900...0xFA2D, 0xFA30...0xFA6A,
        0xFA70...0xFAD9, 0x2001...0x2A6D, 0x2F81...0x2FA1, 0xFF00...0xFFEF, 0x2E80...0x2EFF,
        0x3000...0x303F, 0x31C0...0x31EF, 0x2F00...0x2FDF, 0x2FF0...0x2FFF, 0x3100...0x312F,
        0x31A0...0x31BF, 0xFE10...0xFE1F, 0xFE30...0xFE4F, 0x2600...0x26FF, 0x2700...0x27BF,
        0x3200...0x32FF, 0x3300...0x33FF,
    ]

    static func isChinese(_ value: UInt32) -> Bool {
        guard value >= 0x2001 else { return false }
        return ranges.contains { $0.contains(value) }
    }

    public func tokenize(_ line: String) -> [UInt8] {
        var out = String.UnicodeScalarView()
        for scalar in PythonText.strip(line).unicodeScalars {
            if Self.isChinese(scalar.value) {
                out.append(" ")
                out.append(scalar)
                out.append(" ")
            } else {
                out.append(scalar)
            }
        }
        return ByteRewrite.regexpPasses(Array(String(out).utf8))
    }
}
