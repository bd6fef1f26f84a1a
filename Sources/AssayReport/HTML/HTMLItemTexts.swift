import AssayEvaluators
import Foundation

extension HTMLReport {
    /// The drill-down of an item's texts: the hypothesis (or a model's output) against its
    /// references, with the words that differ marked. Items carry their texts under `keys`
    /// (BLEU, chrF, BERTScore: `hypothesis` and `references`; generation: `prompt`, `output` and
    /// `references`); the item table shows them in one `text` column as a `<details>` element, so
    /// they open with script off and the table's search finds items by their words.
    enum ItemTexts {
        /// Item values that are texts, not statistics: never a column of their own.
        static let keys = ItemRow.textKeys

        /// Bytes the drill-downs of one page may take, shared by its evaluations: the texts plus
        /// ``markupBytes`` an item. A 10,000-item page is about 0.86 MB without texts and the
        /// page budget is 2 MB; WMT segments with their references take about 300 bytes an item,
        /// so a page of 10,000 shows the texts of the lowest-scoring few thousand and the items
        /// file keeps them all.
        static let pageBudget = 800 * 1024

        /// About what the `<details>` element, its paragraphs and the `<mark>` tags add to an
        /// item's texts (measured on generated and WMT items: 70–110 bytes).
        static let markupBytes = 100

        /// Per-item scores that decide which items keep their texts when not all fit (lowest first).
        static let scoreKeys = ["sentence_bleu", "sentence_chrf", "f1"]

        static func hypothesis(_ item: ItemRow) -> String? {
            if case let .string(text)? = item.values["hypothesis"] ?? item.values["output"] { return text }
            return nil
        }

        static func references(_ item: ItemRow) -> [String] {
            guard case let .array(values)? = item.values["references"] else { return [] }
            return values.compactMap { if case let .string(text) = $0 { return text } else { return nil } }
        }

        static func prompt(_ item: ItemRow) -> String? {
            if case let .string(text)? = item.values["prompt"] { return text }
            return nil
        }

        static func hasTexts(_ items: [ItemRow]) -> Bool { items.contains { hypothesis($0) != nil } }

        static func byteCount(_ item: ItemRow) -> Int {
            (hypothesis(item)?.utf8.count ?? 0) + references(item).reduce(0) { $0 + $1.utf8.count } + (prompt(item)?.utf8.count ?? 0) + markupBytes
        }

        /// Which items show their texts within `budget` bytes: every one when all fit, otherwise
        /// the lowest-scoring first by the first of ``scoreKeys`` the items have (in item order
        /// when they have none). Returns the chosen indices and the score they were chosen by.
        static func chosen(_ items: [ItemRow], budget: Int) -> (indices: Set<Int>, by: String?) {
            let sizes = items.map(byteCount)
            if sizes.reduce(0, +) <= budget { return (Set(items.indices), nil) }
            let key = scoreKeys.first { key in items.contains { if case .number? = $0.values[key] { true } else { false } } }
            func score(_ i: Int) -> Double {
                if let key, case let .number(v)? = items[i].values[key], !v.isNaN { return v }
                return .infinity
            }
            let order = key == nil ? Array(items.indices) : items.indices.sorted { (score($0), $0) < (score($1), $1) }
            var chosen = Set<Int>(), used = 0
            for i in order where used + sizes[i] <= budget {
                chosen.insert(i)
                used += sizes[i]
            }
            return (chosen, key)
        }

        /// One item's drill-down for the `items` template: `lines`, each a paragraph of `kind` —
        /// `p` prompt, `h` hypothesis or `o` a model's output, `r` a reference — cut into segments
        /// `{t, m}`, `m` true for a word the other side lacks: a word of the hypothesis that no
        /// reference has as often, a word of a reference the hypothesis has fewer times (BLEU's
        /// clipped unigram matching, on whitespace-separated words).
        static func view(_ item: ItemRow) -> [String: Any] {
            let hypothesis = hypothesis(item) ?? "", references = references(item)
            var lines: [[String: Any]] = []
            if let prompt = prompt(item), !prompt.isEmpty { lines.append(["kind": "p", "segments": [["t": prompt, "m": false]]]) }
            lines.append(["kind": item.values["output"] != nil ? "o" : "h", "segments": segments(hypothesis, allowed: referenceCounts(references))])
            let hypothesisCounts = counts(hypothesis)
            for reference in references { lines.append(["kind": "r", "segments": segments(reference, allowed: hypothesisCounts)]) }
            return ["lines": lines]
        }

        /// The drill-down of an item that two runs share, for the comparison: A's and B's
        /// hypotheses (`a`, `b`), each marked against the references, then the references unmarked.
        static func comparisonView(a: ItemRow, b: ItemRow) -> [String: Any] {
            let references = references(b).isEmpty ? references(a) : references(b)
            let allowed = referenceCounts(references)
            var lines: [[String: Any]] = []
            if let prompt = prompt(b) ?? prompt(a), !prompt.isEmpty { lines.append(["kind": "p", "segments": [["t": prompt, "m": false]]]) }
            lines.append(["kind": "a", "segments": segments(hypothesis(a) ?? "", allowed: allowed)])
            lines.append(["kind": "b", "segments": segments(hypothesis(b) ?? "", allowed: allowed)])
            for reference in references { lines.append(["kind": "r", "segments": [["t": reference, "m": false]]]) }
            return ["lines": lines]
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
        /// marked words (the n-th occurrence of a word that `allowed` has fewer than n times).
        static func segments(_ text: String, allowed: [Substring: Int]) -> [[String: Any]] {
            var segments: [[String: Any]] = [], plain = "", seen: [Substring: Int] = [:]
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
                    if !plain.isEmpty { segments.append(["t": plain, "m": false]) }
                    plain = ""
                    segments.append(["t": String(word), "m": true])
                } else {
                    plain += word
                }
                index = end
            }
            if !plain.isEmpty { segments.append(["t": plain, "m": false]) }
            return segments
        }
    }
}
