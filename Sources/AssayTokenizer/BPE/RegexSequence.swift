import Foundation

/// Pre-tokenizers that llama.cpp runs as a sequence of general regular expressions
/// (`unicode_regex_split` with `std::regex`): each expression splits every current piece into its
/// matches and the gaps between them (both kept), and the next expression works on the result.
/// As in llama.cpp, non-ASCII whitespace is matched as U+000B, so `\s` means llama.cpp's
/// whitespace set, and `$` means the end of the piece.
struct RegexSequence: Sendable {
    let expressions: [NSRegularExpression]

    /// DeepSeek LLM (`deepseek-llm`). Non-ASCII characters are written as `\u{…}` escapes so that
    /// no editor or tool can normalise them (NFC would turn some range ends into other code points).
    static let deepseekLLM = RegexSequence(patterns: [
        "[\r\n]",
        "\\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+",
        "\\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+",
        "\\s+\\z",
        "[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+",
        "\\p{N}+",
    ])

    /// DeepSeek Coder (`deepseek-coder`).
    static let deepseekCoder = RegexSequence(patterns: [
        "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}",
    ])

    /// DeepSeek-V3 (`deepseek-v3`).
    static let deepseekV3 = RegexSequence(patterns: deepseekV3Patterns)

    /// DeepSeek-V3's expressions, as its tokenizer.json's `Split` steps also write them.
    static let deepseekV3Patterns = [
        "\\p{N}{1,3}",
        "[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ]

    init(patterns: [String]) {
        // The patterns are constants of this file; a failure is a programming error.
        expressions = patterns.map { pattern in
            do { return try NSRegularExpression(pattern: pattern) } catch {
                preconditionFailure("invalid built-in pattern \(pattern): \(error)")
            }
        }
    }

    /// The words of `scalars`.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        // Text as the regexes see it: non-ASCII whitespace as U+000B.
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.map { $0.value > 0x7F && PreTokenizer.isWhitespace($0) ? "\u{0B}" : $0 })
        let text = String(view)
        // UTF-16 offset of every scalar, to map NSRange back to scalar indices.
        var utf16Offsets = [Int](repeating: 0, count: scalars.count + 1)
        var position = 0
        for (i, s) in text.unicodeScalars.enumerated() {
            utf16Offsets[i] = position
            position += s.value > 0xFFFF ? 2 : 1
        }
        utf16Offsets[scalars.count] = position
        var scalarAt: [Int: Int] = [:]
        for (i, o) in utf16Offsets.enumerated() { scalarAt[o] = i }
        let nsText = text as NSString
        var pieces: [Range<Int>] = [0..<scalars.count]
        for expression in expressions {
            var next: [Range<Int>] = []
            for piece in pieces where !piece.isEmpty {
                let range = NSRange(location: utf16Offsets[piece.lowerBound], length: utf16Offsets[piece.upperBound] - utf16Offsets[piece.lowerBound])
                var cursor = piece.lowerBound
                for match in expression.matches(in: text, options: [.withoutAnchoringBounds], range: range) where match.range.length > 0 {
                    guard let start = scalarAt[match.range.location], let end = scalarAt[match.range.location + match.range.length] else { continue }
                    if start > cursor { next.append(cursor..<start) }
                    next.append(start..<end)
                    cursor = end
                }
                if cursor < piece.upperBound { next.append(cursor..<piece.upperBound) }
            }
            pieces = next
            _ = nsText
        }
        return pieces
    }
}
