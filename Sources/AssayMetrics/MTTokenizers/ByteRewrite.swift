/// Byte-level rewriting helpers that reproduce Python `str.replace` and the four
/// `re.sub` passes of sacrebleu's `TokenizerRegexp` on UTF-8 text.
///
/// Every pattern in those passes involves ASCII characters only, apart from the `[^0-9]` class,
/// which matches any code point; in UTF-8 the byte next to an ASCII character is either ASCII
/// or part of a multi-byte non-digit, so a byte-wise scan gives the same result.
enum ByteRewrite {
    /// Python `str.replace(old, new)`: every non-overlapping occurrence, left to right.
    static func replace(_ s: [UInt8], _ old: [UInt8], _ new: [UInt8]) -> [UInt8] {
        guard s.count >= old.count, let first = old.first else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        let n = s.count, m = old.count
        while i < n {
            if s[i] == first, i + m <= n, s[i..<(i + m)].elementsEqual(old) {
                out.append(contentsOf: new)
                i += m
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    static func contains(_ s: [UInt8], _ byte: UInt8) -> Bool { s.contains(byte) }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isPeriodOrComma(_ c: UInt8) -> Bool { c == 0x2E || c == 0x2C }

    /// Pass 1: `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → ` \1 `.
    static func spaceOutSymbols(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count * 2)
        for c in s {
            switch c {
            case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F:
                out.append(0x20); out.append(c); out.append(0x20)
            default:
                out.append(c)
            }
        }
        return out
    }

    /// Pass 2: `([^0-9])([\.,])` → `\1 \2 ` (period and comma unless preceded by a digit).
    static func splitPeriodCommaAfterNonDigit(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 8)
        var i = 0
        let n = s.count
        while i < n {
            if i + 1 < n, !isDigit(s[i]), isPeriodOrComma(s[i + 1]) {
                out.append(s[i]); out.append(0x20); out.append(s[i + 1]); out.append(0x20)
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Pass 3: `([\.,])([^0-9])` → ` \1 \2` (period and comma unless followed by a digit).
    static func splitPeriodCommaBeforeNonDigit(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 8)
        var i = 0
        let n = s.count
        while i < n {
            if i + 1 < n, isPeriodOrComma(s[i]), !isDigit(s[i + 1]) {
                out.append(0x20); out.append(s[i]); out.append(0x20)
                // Consume the whole following code point, as the regex does.
                var j = i + 1
                out.append(s[j]); j += 1
                while j < n, s[j] & 0xC0 == 0x80 { out.append(s[j]); j += 1 }
                i = j
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Pass 4: `([0-9])(-)` → `\1 \2 ` (dash after a digit).
    static func splitDashAfterDigit(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count + 8)
        var i = 0
        let n = s.count
        while i < n {
            if i + 1 < n, isDigit(s[i]), s[i + 1] == 0x2D {
                out.append(s[i]); out.append(0x20); out.append(0x2D); out.append(0x20)
                i += 2
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// sacrebleu's `TokenizerRegexp`: the four passes, then whitespace normalisation
    /// (which callers get for free: they split on whitespace).
    static func regexpPasses(_ s: [UInt8]) -> [UInt8] {
        splitDashAfterDigit(splitPeriodCommaBeforeNonDigit(splitPeriodCommaAfterNonDigit(spaceOutSymbols(s))))
    }
}
