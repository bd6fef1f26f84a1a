/// Splits text into words before byte-level BPE, as llama.cpp's `unicode_regex_split` does for a
/// GGUF `tokenizer.ggml.pre` value. Character classes follow llama.cpp's tables: letters L*,
/// numbers N*, and its whitespace set (which, unlike Python's, leaves out U+001C…U+001F).
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every number character on its own (`\p{N}`), then GPT-2's rule (SmolLM, StarCoder, Refact,
    /// Command-R, CodeShell, EXAONE, Minerva).
    case digitsThenGPT2

    /// The pre-tokenizer for a GGUF `tokenizer.ggml.pre` value.
    public static func forGGUF(_ name: String) -> PreTokenizer? {
        switch name {
        case "default", "gpt2", "gpt-2", "mpt", "olmo", "jais", "trillion": return .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b": return .digitsThenGPT2
        default: return nil
        }
    }

    /// Names accepted by ``forGGUF(_:)``.
    public static let supportedGGUFNames = ["default", "gpt2", "mpt", "olmo", "jais", "trillion", "smollm", "starcoder", "refact",
                                            "command-r", "codeshell", "exaone", "minerva-7b"]

    /// The words of `text`, as arrays of Unicode scalars.
    public func split(_ text: String) -> [[Unicode.Scalar]] {
        let scalars = Array(text.unicodeScalars)
        var segments: [Range<Int>] = [0..<scalars.count]
        if self == .digitsThenGPT2 {
            segments = []
            var start = 0
            for (i, s) in scalars.enumerated() where Self.isNumber(s) {
                if start < i { segments.append(start..<i) }
                segments.append(i..<(i + 1))
                start = i + 1
            }
            if start < scalars.count { segments.append(start..<scalars.count) }
        }
        var words: [[Unicode.Scalar]] = []
        for segment in segments {
            for range in Self.gpt2Split(scalars, segment) { words.append(Array(scalars[range])) }
        }
        return words
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// GPT-2's rule inside `segment` (llama.cpp `unicode_regex_split_custom_gpt2`).
    static func gpt2Split(_ s: [Unicode.Scalar], _ segment: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let end = segment.upperBound
        var previous = segment.lowerBound
        func add(_ to: Int) { if to > previous { out.append(previous..<to) }; previous = to }
        func inRange(_ p: Int) -> Bool { p >= segment.lowerBound && p < end }
        func letter(_ p: Int) -> Bool { inRange(p) && isLetter(s[p]) }
        func number(_ p: Int) -> Bool { inRange(p) && isNumber(s[p]) }
        func space(_ p: Int) -> Bool { inRange(p) && isWhitespace(s[p]) }
        func other(_ p: Int) -> Bool { inRange(p) && !isWhitespace(s[p]) && !isLetter(s[p]) && !isNumber(s[p]) }
        var pos = segment.lowerBound
        while pos < end {
            let c = s[pos]
            if c == "'" && pos + 1 < end {
                let n = s[pos + 1]
                if n == "s" || n == "t" || n == "m" || n == "d" { add(pos + 2); pos += 2; continue }
                if pos + 2 < end {
                    let nn = s[pos + 2]
                    if (n == "r" && nn == "e") || (n == "v" && nn == "e") || (n == "l" && nn == "l") { add(pos + 3); pos += 3; continue }
                }
            }
            let probe = c == " " ? pos + 1 : pos
            if letter(probe) {
                pos = probe
                while letter(pos) { pos += 1 }
                add(pos)
                continue
            }
            if number(probe) {
                pos = probe
                while number(pos) { pos += 1 }
                add(pos)
                continue
            }
            if other(probe) {
                pos = probe
                while other(pos) { pos += 1 }
                add(pos)
                continue
            }
            var spaces = 0
            while space(pos + spaces) { spaces += 1 }
            if spaces > 1 && inRange(pos + spaces) {
                pos += spaces - 1
                add(pos)
                continue
            }
            if spaces > 0 {
                pos += spaces
                add(pos)
                continue
            }
            pos += 1
            add(pos)
        }
        return out
    }
}
