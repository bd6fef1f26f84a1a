/// The `intl` tokenizer as sacrebleu 2.6.0 `TokenizerV14International` (mteval-v14.pl):
/// `(\P{N})(\p{P})` → `\1 \2 `, then `(\p{P})(\P{N})` → ` \1 \2`, then `(\p{S})` → ` \1 `.
///
/// Unicode general categories come from Swift's Unicode tables; sacrebleu uses the `regex`
/// package's. They agree except for characters added in a newer Unicode version than one side has.
public struct TokenizerIntl: MTTokenizer {
    public static let name = "intl"

    public init() {}

    static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    static func isSymbol(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return true
        default: return false
        }
    }

    public func tokenize(_ line: String) -> [UInt8] {
        let space: Unicode.Scalar = " "
        var s = Array(line.unicodeScalars)
        // Pass 1: (\P{N})(\p{P}) -> '\1 \2 '
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count * 2)
        var i = 0
        while i < s.count {
            if i + 1 < s.count, !Self.isNumber(s[i]), Self.isPunctuation(s[i + 1]) {
                out += [s[i], space, s[i + 1], space]
                i += 2
            } else {
                out.append(s[i]); i += 1
            }
        }
        s = out
        // Pass 2: (\p{P})(\P{N}) -> ' \1 \2'
        out = []
        i = 0
        while i < s.count {
            if i + 1 < s.count, Self.isPunctuation(s[i]), !Self.isNumber(s[i + 1]) {
                out += [space, s[i], space, s[i + 1]]
                i += 2
            } else {
                out.append(s[i]); i += 1
            }
        }
        s = out
        // Pass 3: (\p{S}) -> ' \1 '
        out = []
        for scalar in s {
            if Self.isSymbol(scalar) { out += [space, scalar, space] } else { out.append(scalar) }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: out)
        return Array(String(view).utf8)
    }
}
