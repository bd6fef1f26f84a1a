/// Splits text into words before byte-level BPE, as llama.cpp's `unicode_regex_split` does for a
/// GGUF `tokenizer.ggml.pre` value. Character classes follow llama.cpp's tables: letters L*,
/// numbers N*, and its whitespace set (which, unlike Python's, leaves out U+001C…U+001F).
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every number character on its own (`\p{N}`), then GPT-2's rule (SmolLM, StarCoder, Refact,
    /// Command-R, CodeShell, EXAONE, Minerva).
    case digitsThenGPT2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
    /// words that are whole tokens skip the merges.
    case llama3
    /// Qwen2 (and DeepSeek-R1-Distill-Qwen): Llama 3's rule with single-digit numbers.
    case qwen2
    /// DeepSeek LLM: llama.cpp's sequence of six regular expressions.
    case deepseekLLM
    /// DeepSeek Coder: llama.cpp's sequence of five regular expressions.
    case deepseekCoder
    /// DeepSeek-V3 (and R1): llama.cpp's sequence of three regular expressions — numbers in
    /// groups of up to 3, runs of CJK ideographs and kana, then letters with marks, punctuation and
    /// symbols, line breaks and spaces.
    case deepseekV3

    /// Whether a word that is itself a token is emitted without merging (llama.cpp `ignore_merges`).
    public var ignoresMerges: Bool { self == .llama3 }

    /// The pre-tokenizer for a GGUF `tokenizer.ggml.pre` value.
    public static func forGGUF(_ name: String) -> PreTokenizer? {
        switch name {
        case "default", "gpt2", "gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion": return .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b": return .digitsThenGPT2
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe": return .llama3
        case "qwen2", "deepseek-r1-qwen", "kormo": return .qwen2
        case "deepseek-llm": return .deepseekLLM
        case "deepseek-coder": return .deepseekCoder
        case "deepseek-v3": return .deepseekV3
        default: return nil
        }
    }

    /// Names accepted by ``forGGUF(_:)``.
    public static let supportedGGUFNames = ["default", "gpt2", "gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "smollm", "starcoder", "refact",
                                            "command-r", "codeshell", "exaone", "minerva-7b", "llama3", "llama-v3", "llama-bpe",
                                            "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe", "qwen2",
                                            "deepseek-r1-qwen", "kormo", "deepseek-llm", "deepseek-coder", "deepseek-v3"]

    /// The words of `text`, as arrays of Unicode scalars.
    public func split(_ text: String) -> [[Unicode.Scalar]] {
        let scalars = Array(text.unicodeScalars)
        switch self {
        case .deepseekLLM: return RegexSequence.deepseekLLM.split(scalars).map { Array(scalars[$0]) }
        case .deepseekCoder: return RegexSequence.deepseekCoder.split(scalars).map { Array(scalars[$0]) }
        case .deepseekV3: return RegexSequence.deepseekV3.split(scalars).map { Array(scalars[$0]) }
        default: break
        }
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
            let ranges: [Range<Int>]
            switch self {
            case .gpt2, .digitsThenGPT2: ranges = Self.gpt2Split(scalars, segment)
            case .llama3: ranges = Self.llama3Split(scalars, segment, maxDigits: 3)
            case .qwen2: ranges = Self.llama3Split(scalars, segment, maxDigits: 1)
            case .deepseekLLM, .deepseekCoder, .deepseekV3: ranges = [segment]
            }
            for range in ranges { words.append(Array(scalars[range])) }
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

    /// ASCII lowercase for the contraction check (llama.cpp `unicode_tolower` on these letters).
    static func lower(_ s: Unicode.Scalar) -> Unicode.Scalar {
        (0x41...0x5A).contains(s.value) ? Unicode.Scalar(s.value + 32)! : s
    }

    /// Llama 3's rule inside `segment` (llama.cpp `unicode_regex_split_custom_llama3`; Qwen2's is
    /// the same with `maxDigits` 1).
    static func llama3Split(_ s: [Unicode.Scalar], _ segment: Range<Int>, maxDigits: Int) -> [Range<Int>] {
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
                let n = lower(s[pos + 1])
                if n == "s" || n == "t" || n == "m" || n == "d" { add(pos + 2); pos += 2; continue }
                if pos + 2 < end {
                    let nn = lower(s[pos + 2])
                    if (n == "r" && nn == "e") || (n == "v" && nn == "e") || (n == "l" && nn == "l") { add(pos + 3); pos += 3; continue }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == "\r" || c == "\n" || isNumber(c)) && (isLetter(c) || letter(pos + 1)) {
                pos += 1
                while letter(pos) { pos += 1 }
                add(pos)
                continue
            }
            // \p{N}{1,maxDigits}
            if isNumber(c) {
                var start = pos
                while number(pos) {
                    pos += 1
                    if pos - start >= maxDigits { add(pos); start = pos }
                }
                add(pos)
                continue
            }
            // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests the current character for "defined")
            let probe = c == " " ? pos + 1 : pos
            if other(probe) || (c == " " && !inRange(probe)) {
                pos = probe
                while other(pos) { pos += 1 }
                while inRange(pos) && (s[pos] == "\r" || s[pos] == "\n") { pos += 1 }
                add(pos)
                continue
            }
            var spaces = 0
            var lastNewline = 0
            while space(pos + spaces) {
                if s[pos + spaces] == "\r" || s[pos + spaces] == "\n" { lastNewline = pos + spaces + 1 }
                spaces += 1
            }
            if lastNewline > 0 {  // \s*[\r\n]+
                pos = lastNewline
                add(pos)
                continue
            }
            if spaces > 1 && inRange(pos + spaces) {  // \s+(?!\S)
                pos += spaces - 1
                add(pos)
                continue
            }
            if spaces > 0 {  // \s+
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
