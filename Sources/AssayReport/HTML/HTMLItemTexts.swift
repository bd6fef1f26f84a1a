import AssayEvaluators
import Foundation

extension HTMLReport {
    /// The drill-down of an item's texts: the hypothesis (or a model's output) against its
    /// references, with the words that differ marked. Items carry their texts under
    /// ``ItemRow/textKeys``
    /// (BLEU, chrF, BERTScore: `hypothesis` and `references`; generation: `prompt`, `output` and
    /// `references`); the item table shows them in one `text` column as a `<details>` element, so
    /// they open with script off and the table's search finds items by their words.
    enum ItemTexts {
        /// Bytes the drill-downs of one page may take, shared by its evaluations, counted as the
        /// template writes them (escaped text, `<p>` and `<mark>` tags). A 10,000-item page is
        /// about 0.86 MB without texts and the page budget is 2 MB; a WMT segment with its
        /// reference takes about 560 bytes marked up, so a page of 10,000 shows the texts of the
        /// lowest-scoring 1,600 or so and the items file keeps them all.
        static let pageBudget = 900 * 1024

        /// Per-item scores that decide which items keep their texts when not all fit (lowest first).
        static let scoreKeys = ["sentence_bleu", "sentence_chrf", "f1"]

        static func hypothesis(_ item: ItemRow) -> String? { (item.values["hypothesis"] ?? item.values["output"])?.string }

        static func references(_ item: ItemRow) -> [String] { item.values["references"]?.array?.compactMap(\.string) ?? [] }

        static func prompt(_ item: ItemRow) -> String? { item.values["prompt"]?.string }

        /// A perplexity chunk's (or document's) scored tokens' texts and NLLs, when kept.
        static func scoredTokens(_ item: ItemRow) -> [(text: String, nll: Double)]? {
            guard let texts = item.values["token_texts"]?.array, let nll = item.values["token_nll"]?.array, texts.count == nll.count else { return nil }
            var tokens: [(text: String, nll: Double)] = []
            for (text, value) in zip(texts, nll) {
                guard let text = text.string, let value = value.number else { return nil }
                tokens.append((text, value))
            }
            return tokens
        }

        /// Whether an item has a drill-down: texts to compare, or scored tokens to shade.
        static func hasDrill(_ item: ItemRow) -> Bool { hypothesis(item) != nil || scoredTokens(item) != nil }

        static func hasTexts(_ items: [ItemRow]) -> Bool { items.contains(where: hasDrill) }

        /// A paragraph of the drill-down: `kind` (`p` prompt, `h` hypothesis, `o` a model's
        /// output, `a`/`b` run A's and B's, `r` a reference; `c` a perplexity chunk's context, `s`
        /// its scored tokens) and its text in runs.
        struct Line {
            var kind: String
            var segments: [Segment]
        }

        /// A run of text: `marked` for the words the other side lacks, or shaded (`shade` 1…4) by
        /// its token's NLL, given in `nll` ("5.21 nats").
        struct Segment {
            var text: String
            var marked = false
            var shade = 0
            var nll: String?

            init(_ text: String, marked: Bool = false) {
                self.text = text
                self.marked = marked
            }
        }

        /// A scored token's shade: none below 2 nats (p > 0.14), then one step per 2 nats up to 4
        /// (8 nats and more: p < 0.0003).
        static func shade(_ nll: Double) -> Int { nll.isNaN || nll >= 8 ? 4 : nll < 2 ? 0 : Int(nll / 2) }

        /// Longest text a drill-down shows of one hypothesis, output, prompt or reference; a longer
        /// one (a runaway generation) is cut there with " …" — the items file has it whole.
        static let textLimit = 2_000

        /// Which items show their texts within `budget` bytes: every one when all fit; otherwise
        /// the most telling first, as many as fit in that order — the lowest-scoring by the first of
        /// ``scoreKeys`` the items have, or for `human-agreement` items those where the human and
        /// the metric categories differ most (in item order when neither). Returns each chosen
        /// item's lines and how they were ordered.
        static func chosen(_ items: [ItemRow], budget: Int) -> (lines: [Int: [Line]], by: String?) {
            var all: [Int: [Line]] = [:], sizes: [Int: Int] = [:]
            for i in items.indices where hasDrill(items[i]) {
                all[i] = lines(items[i])
                sizes[i] = renderedBytes(all[i]!)
            }
            if sizes.values.reduce(0, +) <= budget { return (all, nil) }
            func number(_ i: Int, _ key: String) -> Double? { items[i].values[key]?.number.flatMap { $0.isNaN ? nil : $0 } }
            let key = scoreKeys.first { key in items.indices.contains { number($0, key) != nil } }
            let order: [Int], by: String?
            if items.indices.contains(where: { scoredTokens(items[$0]) != nil && number($0, "perplexity") != nil }) {
                order = all.keys.sorted { (-(number($0, "perplexity") ?? -.infinity), $0) < (-(number($1, "perplexity") ?? -.infinity), $1) }
                by = "highest perplexity"
            } else if let key {
                order = all.keys.sorted { (number($0, key) ?? .infinity, $0) < (number($1, key) ?? .infinity, $1) }
                by = "lowest \(key)"
            } else if items.indices.contains(where: { number($0, "human_category") != nil && number($0, "metric_category") != nil }) {
                func gap(_ i: Int) -> Double { abs((number(i, "human_category") ?? 0) - (number(i, "metric_category") ?? 0)) }
                order = all.keys.sorted { (-gap($0), $0) < (-gap($1), $1) }
                by = "largest gap between human_category and metric_category"
            } else {
                (order, by) = (all.keys.sorted(), nil)
            }
            // In that order until one does not fit: the caption's "first N" stays true.
            var chosen: [Int: [Line]] = [:], used = 0
            for i in order {
                guard used + sizes[i]! <= budget else { break }
                chosen[i] = all[i]
                used += sizes[i]!
            }
            return (chosen, by)
        }

        /// `text` cut to ``textLimit`` characters (at a word break when there is one near) with " …".
        static func shortened(_ text: String) -> String {
            guard text.count > textLimit else { return text }
            let head = text.prefix(textLimit)
            let cut = head.lastIndex(where: \.isWhitespace).flatMap { head.distance(from: head.startIndex, to: $0) > textLimit * 3 / 4 ? $0 : nil }
            return String(head[..<(cut ?? head.endIndex)]) + " …"
        }

        /// An item's lines: its prompt, its hypothesis (or output) with the words no reference has
        /// as often marked, and each reference with the words the hypothesis has fewer times
        /// marked (BLEU's clipped unigram matching, on whitespace-separated words).
        static func lines(_ item: ItemRow) -> [Line] {
            if let tokens = scoredTokens(item) { return scoredLines(item, tokens) }
            let hypothesis = shortened(hypothesis(item) ?? ""), references = references(item).map(shortened)
            var lines: [Line] = []
            if let prompt = prompt(item), !prompt.isEmpty { lines.append(Line(kind: "p", segments: [Segment(shortened(prompt))])) }
            lines.append(Line(kind: item.values["output"] != nil ? "o" : "h", segments: segments(hypothesis, allowed: referenceCounts(references))))
            let hypothesisCounts = counts(hypothesis)
            for reference in references { lines.append(Line(kind: "r", segments: segments(reference, allowed: hypothesisCounts))) }
            return lines
        }

        /// The lines of an item two runs share, for the comparison: A's and B's hypotheses, each
        /// marked against the references, then the references unmarked.
        static func lines(comparing a: ItemRow, with b: ItemRow) -> [Line] {
            let references = (references(b).isEmpty ? references(a) : references(b)).map(shortened)
            let allowed = referenceCounts(references)
            var lines: [Line] = []
            if let prompt = prompt(b) ?? prompt(a), !prompt.isEmpty { lines.append(Line(kind: "p", segments: [Segment(shortened(prompt))])) }
            lines.append(Line(kind: "a", segments: segments(shortened(hypothesis(a) ?? ""), allowed: allowed)))
            lines.append(Line(kind: "b", segments: segments(shortened(hypothesis(b) ?? ""), allowed: allowed)))
            for reference in references { lines.append(Line(kind: "r", segments: [Segment(reference)])) }
            return lines
        }

        /// A perplexity chunk's lines: its context, then its scored tokens shaded by NLL (adjacent
        /// unshaded tokens in one run), cut after ``textLimit`` characters.
        static func scoredLines(_ item: ItemRow, _ tokens: [(text: String, nll: Double)]) -> [Line] {
            var lines: [Line] = []
            if let context = item.values["context"]?.string, !context.isEmpty {
                lines.append(Line(kind: "c", segments: [Segment(context.count > textLimit ? "… " + context.suffix(textLimit) : context)]))
            }
            var segments: [Segment] = [], characters = 0, carried = 0.0
            for (index, token) in tokens.enumerated() {
                if characters > textLimit {
                    segments.append(Segment(" … (\(tokens.count - index) more tokens in the items file)"))
                    break
                }
                // A token that ends inside a character has no text of its own: its NLL goes to the
                // token that completes the character (their joint surprisal).
                guard !token.text.isEmpty else {
                    carried += token.nll
                    continue
                }
                let nll = token.nll + carried
                carried = 0
                characters += token.text.count
                let level = shade(nll)
                if level == 0, let last = segments.last, last.shade == 0 {
                    segments[segments.count - 1].text += token.text
                } else {
                    var segment = Segment(token.text)
                    if level > 0 {
                        segment.shade = level
                        segment.nll = String(format: "%.2f nats", nll)
                    }
                    segments.append(segment)
                }
            }
            lines.append(Line(kind: "s", segments: segments))
            return lines
        }

        /// The `drill` view the `items` template renders.
        static func view(_ lines: [Line]) -> [String: Any] {
            ["lines": lines.map { line in
                ["kind": line.kind, "segments": line.segments.map { segment -> [String: Any] in
                    ["t": segment.text, "m": segment.marked, "s": segment.shade > 0 ? "n\(segment.shade)" as Any : false, "n": segment.nll ?? ""]
                }]
            }]
        }

        /// The bytes the template writes for `lines`: the `<details>` element, a `<p class="k">`
        /// per line, a `<mark>` per marked run, and the text escaped as ``ScalarHTMLEscaping``
        /// escapes it.
        static func renderedBytes(_ lines: [Line]) -> Int {
            var bytes = "<details><summary>texts</summary></details>".utf8.count
            for line in lines {
                bytes += "<p class=\"\"></p>".utf8.count + line.kind.utf8.count
                for segment in line.segments {
                    if segment.shade > 0 {
                        bytes += "<span class=\"n0\" title=\"\"></span>".utf8.count + escapedBytes(segment.nll ?? "")
                    } else if segment.marked {
                        bytes += "<mark></mark>".utf8.count
                    }
                    bytes += escapedBytes(segment.text)
                }
            }
            return bytes
        }

        /// The bytes of `text` escaped as ``ScalarHTMLEscaping`` escapes it.
        static func escapedBytes(_ text: String) -> Int {
            var bytes = 0
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "&"), UInt8(ascii: "'"): bytes += 5
                case UInt8(ascii: "<"), UInt8(ascii: ">"): bytes += 4
                case UInt8(ascii: "\""): bytes += 6
                default: bytes += 1
                }
            }
            return bytes
        }

        /// Each word's largest count in any one reference: how often a hypothesis may use it.
        static func referenceCounts(_ references: [String]) -> [Substring: Int] {
            var allowed: [Substring: Int] = [:]
            for reference in references {
                for (word, n) in counts(reference) { allowed[word] = max(allowed[word] ?? 0, n) }
            }
            return allowed
        }

        static func counts(_ text: String) -> [Substring: Int] {
            var counts: [Substring: Int] = [:]
            for word in text.split(whereSeparator: \.isWhitespace) { counts[word, default: 0] += 1 }
            return counts
        }

        /// `text` cut into runs: unmarked text (words that match and the spaces between words) and
        /// marked words (the n-th occurrence of a word that `allowed` has fewer than n times);
        /// marked words with only spaces between them share one run.
        static func segments(_ text: String, allowed: [Substring: Int]) -> [Segment] {
            var segments: [(text: String, marked: Bool)] = [], plain = "", seen: [Substring: Int] = [:]
            var index = text.startIndex
            while index < text.endIndex {
                if text[index].isWhitespace {
                    let end = text[index...].firstIndex { !$0.isWhitespace } ?? text.endIndex
                    plain += text[index..<end]
                    index = end
                    continue
                }
                let end = text[index...].firstIndex(where: \.isWhitespace) ?? text.endIndex
                let word = text[index..<end]
                seen[word, default: 0] += 1
                if seen[word]! > allowed[word, default: 0] {
                    if let last = segments.last, last.marked, plain.allSatisfy(\.isWhitespace) {
                        segments[segments.count - 1].text += plain + word
                    } else {
                        if !plain.isEmpty { segments.append((plain, false)) }
                        segments.append((String(word), true))
                    }
                    plain = ""
                } else {
                    plain += word
                }
                index = end
            }
            if !plain.isEmpty { segments.append((plain, false)) }
            return segments.map { Segment($0.text, marked: $0.marked) }
        }
    }
}
