import AssayMetrics
import Testing

/// Tokenizer behaviours pinned against sacrebleu 2.6.0 (outputs produced with
/// `sacrebleu.tokenizers.tokenizer_*` on the same strings).
struct TokenizerTests {
    func tokens(_ name: String, _ text: String) throws -> [String] {
        let bytes = try MTTokenizers.make(name).tokenize(text)
        return PythonText.splitRanges(bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func thirteenA() throws {
        #expect(try tokens("13a", "It costs $1,000.50, i.e. 3-4 days.") == ["It", "costs", "$", "1,000.50", ",", "i", ".", "e", ".", "3", "-", "4", "days", "."])
        #expect(try tokens("13a", "&quot;A&quot; &amp; <skipped>B") == ["\"", "A", "\"", "&", "B"])
    }

    @Test func zhKeepsSacrebleusRangeQuirk() throws {
        // U+201C/U+201D (curly quotes) fall in sacrebleu's accidental U+2001–U+2A6D range.
        #expect(try tokens("zh", "他说“好”。OK") == ["他", "说", "“", "好", "”", "。", "OK"])
        // U+2000 itself does not (the range starts after it).
        #expect(try tokens("zh", "a\u{2000}b") == ["a", "b"])
    }

    @Test func intlSplitsUnicodePunctuationAndSymbols() throws {
        #expect(try tokens("intl", "Preis: 3,50€ – «gut»!") == ["Preis", ":", "3,50", "€", "–", "«", "gut", "»", "!"])
    }

    @Test func charAndNone() throws {
        #expect(try tokens("char", "ab c") == ["a", "b", "c"])
        #expect(try tokens("none", " a  b ") == ["a", "b"])
    }

    @Test func unknownTokenizerSuggests() {
        #expect(throws: MetricsError.unknownName(kind: "tokenizer", name: "13b", suggestion: "13a", valid: MTTokenizers.names)) {
            try MTTokenizers.make("13b")
        }
    }
}

struct PythonTextTests {
    @Test func splitUsesPythonWhitespace() {
        #expect(PythonText.split("a\u{00A0}b\u{3000}c\u{200B}d\u{1C}e").map(String.init) == ["a", "b", "c\u{200B}d", "e"])
        let bytes = Array("x\u{2028}y\u{85}z".utf8)
        #expect(PythonText.splitRanges(bytes).count == 3)
    }

    @Test func lowerMatchesPython() {
        #expect(PythonText.lower("ΟΔΟΣ ΣΟΦΙΑ Σ") == "οδος σοφια σ")
        #expect(PythonText.lower("İstanbul ÄÖÜ") == "i̇stanbul äöü")
    }

    @Test func stripFunctions() {
        #expect(PythonText.rstrip("abc \t\u{A0}\n") == "abc")
        #expect(PythonText.strip("\u{3000} abc  ") == "abc")
        #expect(PythonText.rstrip("abc") == "abc")
    }
}
