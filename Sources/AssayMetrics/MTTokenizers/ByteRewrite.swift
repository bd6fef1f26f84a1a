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

    /// Runs `body` over the input bytes with an output buffer of `capacity` bytes and returns
    /// the bytes it wrote.
    @inline(__always)
    private static func rewrite(_ s: [UInt8], capacity: Int,
                                _ body: (UnsafeBufferPointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
        s.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: capacity) { output, count in
                count = body(input, output.baseAddress!)
            }
        }
    }

    /// Pass 1: `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → ` \1 `, applied to `s` padded with a
    /// space on each side (13a's `f' {line} '`; a padding space becomes three spaces, which the
    /// later passes and the final split treat exactly like one).
    static func spaceOutSymbols(_ s: [UInt8], padded: Bool = false) -> [UInt8] {
        let bits = symbolBits
        return rewrite(s, capacity: s.count * 3 + 7) { input, out in
            var o = 0
            if padded { out[0] = 0x20; o = 1 }
            for c in input {
                if c < 0x80 && bits & (1 << UInt128(c)) != 0 {
                    out[o] = 0x20; out[o + 1] = c; out[o + 2] = 0x20; o += 3
                } else {
                    out[o] = c; o += 1
                }
            }
            if padded { out[o] = 0x20; o += 1 }
            return o
        }
    }

    /// Bit c is set for each ASCII byte c in pass 1's class.
    static let symbolBits: UInt128 = {
        var bits: UInt128 = 0
        for c in 0..<128 {
            switch c {
            case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: bits |= 1 << UInt128(c)
            default: break
            }
        }
        return bits
    }()

    /// Pass 2: `([^0-9])([\.,])` → `\1 \2 ` (period and comma unless preceded by a digit).
    static func splitPeriodCommaAfterNonDigit(_ s: [UInt8]) -> [UInt8] {
        rewrite(s, capacity: s.count * 2 + 1) { input, out in
            var o = 0, i = 0
            let n = input.count
            while i < n {
                if i + 1 < n, !isDigit(input[i]), isPeriodOrComma(input[i + 1]) {
                    out[o] = input[i]; out[o + 1] = 0x20; out[o + 2] = input[i + 1]; out[o + 3] = 0x20
                    o += 4; i += 2
                } else {
                    out[o] = input[i]; o += 1; i += 1
                }
            }
            return o
        }
    }

    /// Pass 3: `([\.,])([^0-9])` → ` \1 \2` (period and comma unless followed by a digit).
    static func splitPeriodCommaBeforeNonDigit(_ s: [UInt8]) -> [UInt8] {
        rewrite(s, capacity: s.count * 2 + 1) { input, out in
            var o = 0, i = 0
            let n = input.count
            while i < n {
                if i + 1 < n, isPeriodOrComma(input[i]), !isDigit(input[i + 1]) {
                    out[o] = 0x20; out[o + 1] = input[i]; out[o + 2] = 0x20; o += 3
                    // Consume the whole following code point, as the regex does.
                    var j = i + 1
                    out[o] = input[j]; o += 1; j += 1
                    while j < n, input[j] & 0xC0 == 0x80 { out[o] = input[j]; o += 1; j += 1 }
                    i = j
                } else {
                    out[o] = input[i]; o += 1; i += 1
                }
            }
            return o
        }
    }

    /// Pass 4: `([0-9])(-)` → `\1 \2 ` (dash after a digit).
    static func splitDashAfterDigit(_ s: [UInt8]) -> [UInt8] {
        rewrite(s, capacity: s.count * 2 + 1) { input, out in
            var o = 0, i = 0
            let n = input.count
            while i < n {
                if i + 1 < n, isDigit(input[i]), input[i + 1] == 0x2D {
                    out[o] = input[i]; out[o + 1] = 0x20; out[o + 2] = 0x2D; out[o + 3] = 0x20
                    o += 4; i += 2
                } else {
                    out[o] = input[i]; o += 1; i += 1
                }
            }
            return o
        }
    }

    /// sacrebleu's `TokenizerRegexp`: the four passes, then whitespace normalisation
    /// (which callers get for free: they split on whitespace).
    static func regexpPasses(_ s: [UInt8], padded: Bool = false) -> [UInt8] {
        splitDashAfterDigit(splitPeriodCommaBeforeNonDigit(splitPeriodCommaAfterNonDigit(spaceOutSymbols(s, padded: padded))))
    }
}
