/// String operations with Python 3 `str` semantics, which sacrebleu relies on.
///
/// Python strings are sequences of code points, `str.split()` / `str.rstrip()` use
/// `Py_UNICODE_ISSPACE`, and `str.lower()` applies full case mappings with the Final_Sigma rule.
/// Metrics that must equal sacrebleu use these instead of Swift's grapheme-based `String` APIs.
public enum PythonText {
    /// Whether `value` is whitespace for Python's `str.isspace()` / `str.split()`.
    @inlinable
    public static func isSpace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
            0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Whether `scalar` is whitespace for Python's `str.isspace()` (what `\s` matches in a `str` pattern).
    @inlinable
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool { isSpace(scalar.value) }

    /// `len(re.split(r"\s+", text))`: one more than the number of maximal whitespace runs (so an
    /// empty string counts 1, and leading or trailing whitespace adds an empty field).
    public static func whitespaceSplitCount(_ text: String) -> Int {
        var count = 1, inRun = false
        for scalar in text.unicodeScalars {
            let space = isSpace(scalar)
            if space && !inRun { count += 1 }
            inRun = space
        }
        return count
    }

    /// Splits UTF-8 `bytes` on runs of Python whitespace, as `str.split()` with no arguments.
    /// - Returns: byte ranges of the fields, in order.
    /// - Precondition: `bytes` is valid UTF-8.
    public static func splitRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(bytes.count / 4 + 1)
        forEachField(bytes) { ranges.append($0) }
        return ranges
    }

    /// Calls `body` with the byte range of each field of `bytes`, as ``splitRanges(_:)`` returns
    /// them, without building an array.
    @inline(__always)
    public static func forEachField(_ bytes: [UInt8], _ body: (Range<Int>) -> Void) {
        var start = -1
        var i = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            let width: Int
            if c < 0x80 {
                width = (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) ? 1 : 0
            } else {
                width = spaceWidth(bytes, i)
            }
            if width > 0 {
                if start >= 0 { body(start..<i); start = -1 }
                i += width
            } else {
                if start < 0 { start = i }
                i += 1
            }
        }
        if start >= 0 { body(start..<n) }
    }

    /// The byte length of a Python whitespace character starting at `i`, or 0 if there is none.
    @inlinable
    static func spaceWidth(_ b: [UInt8], _ i: Int) -> Int {
        let c = b[i]
        if c < 0x80 { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) ? 1 : 0 }
        let n = b.count
        switch c {
        case 0xC2:
            if i + 1 < n, b[i + 1] == 0x85 || b[i + 1] == 0xA0 { return 2 }
        case 0xE1:
            if i + 2 < n, b[i + 1] == 0x9A, b[i + 2] == 0x80 { return 3 }
        case 0xE2:
            guard i + 2 < n else { return 0 }
            let c1 = b[i + 1], c2 = b[i + 2]
            if c1 == 0x80, (c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF { return 3 }
            if c1 == 0x81, c2 == 0x9F { return 3 }
        case 0xE3:
            if i + 2 < n, b[i + 1] == 0x80, b[i + 2] == 0x80 { return 3 }
        default:
            break
        }
        return 0
    }

    /// Python's `str.split()`: the whitespace-separated fields of `text`.
    public static func split(_ text: String) -> [Substring] {
        text.unicodeScalars.split(whereSeparator: { isSpace($0.value) }).map { Substring($0) }
    }

    /// Python's `str.rstrip()`: `text` without trailing whitespace.
    public static func rstrip(_ text: String) -> String {
        if let last = text.utf8.last, last > 0x20, last < 0x80 { return text }
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, isSpace(last.value) { scalars.removeLast() }
        return String(scalars)
    }

    /// Python's `str.strip()`: `text` without leading and trailing whitespace.
    public static func strip(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let last = scalars.last, isSpace(last.value) { scalars.removeLast() }
        while let first = scalars.first, isSpace(first.value) { scalars.removeFirst() }
        return String(scalars)
    }

    /// Python's `str.lower()`: full lowercase mappings per code point, and capital sigma at the
    /// end of a word (preceded by a cased letter, not followed by one) becomes final sigma `ς`.
    public static func lower(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains(where: { $0.value >= 0x80 || ($0.value >= 0x41 && $0.value <= 0x5A) }) else {
            return text
        }
        var out = String.UnicodeScalarView()
        for (i, scalar) in scalars.enumerated() {
            if scalar.value == 0x03A3, isFinalSigma(scalars, i) {
                out.append(Unicode.Scalar(0x03C2)!)
            } else if scalar.value < 0x80 {
                let v = scalar.value
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : scalar)
            } else {
                // Scalar by scalar: appending a whole String.UnicodeScalarView each time grows quadratically.
                for lowered in scalar.properties.lowercaseMapping.unicodeScalars { out.append(lowered) }
            }
        }
        return String(out)
    }

    private static func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0, s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count, s[k].properties.isCaseIgnorable { k += 1 }
        return !(k < s.count && s[k].properties.isCased)
    }
}
