import Foundation

/// BERT's text normalisation as Hugging Face `tokenizers` (`BertNormalizer`) applies it, in its
/// order: drop NUL, U+FFFD and other control/format characters and turn whitespace into spaces;
/// put spaces around CJK ideographs; strip accents (NFD, then drop non-spacing marks); lowercase
/// (full per-character mappings).
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseCharacters = true
    /// nil: follow `lowercase`, as BERT does.
    public var stripAccents: Bool? = nil
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// The normalised text.
    public func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) { scalars.append(" "); continue }
            }
            if handleChineseCharacters && Self.isChinese(s.value) {
                scalars.append(" ")
                scalars.append(s)
                scalars.append(" ")
            } else {
                scalars.append(s)
            }
        }
        var result = String(scalars)
        if stripAccents ?? lowercase {
            var stripped = String.UnicodeScalarView()
            for s in Self.decomposed(result).unicodeScalars where s.properties.generalCategory != .nonspacingMark {
                stripped.append(s)
            }
            result = String(stripped)
        }
        if lowercase {
            var lowered = String.UnicodeScalarView()
            // Scalar by scalar: appending a whole String.UnicodeScalarView each time grows quadratically.
            for s in result.unicodeScalars { for l in s.properties.lowercaseMapping.unicodeScalars { lowered.append(l) } }
            result = String(lowered)
        }
        return result
    }

    /// NFD of `text`, in pieces of about 2,048 scalars: Foundation's decomposition of one long
    /// string takes time quadratic in its length (1.6 MB: 2.4 s, against 0.17 s in pieces). A
    /// piece starts at a starter whose decomposition starts with a starter (ASCII, CJK, kana, a
    /// Hangul syllable, …), so no canonical reordering crosses a cut and the pieces'
    /// decompositions concatenate to the whole's.
    static func decomposed(_ text: String) -> String {
        func startsClean(_ s: Unicode.Scalar) -> Bool {
            if s.isASCII { return true }
            guard s.properties.canonicalCombiningClass == .notReordered else { return false }
            return String(s).decomposedStringWithCanonicalMapping.unicodeScalars.first?.properties.canonicalCombiningClass == .notReordered
        }
        var out = "", piece = String.UnicodeScalarView()
        var length = 0
        for s in text.unicodeScalars {
            if length >= 2048, startsClean(s) {
                out += String(piece).decomposedStringWithCanonicalMapping
                piece = String.UnicodeScalarView()
                length = 0
            }
            piece.append(s)
            length += 1
        }
        return out + String(piece).decomposedStringWithCanonicalMapping
    }

    /// Whitespace for BERT: tab, newline, carriage return, or White_Space.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Control for BERT: any "Other" category (Cc, Cf, Cs, Co, Cn) except tab, newline, return.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// CJK ideograph blocks as BERT lists them.
    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
