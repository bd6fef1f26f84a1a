import AssayEvaluators
@testable import AssayReport
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

/// The HTML report: escaping by construction, self-contained, within its size budget, and — in
/// Debian's chromium, headless — scripts that run without errors, filter and sort the rows.
struct HTMLReportTests {
    /// A suite run with BLEU over `lines` generated sentence pairs (hypotheses with every seventh
    /// word changed, per `variant`), so per-item scores vary.
    static func outcome(lines: Int, variant: Int = 0, in directory: URL) async throws -> RunOutcome {
        let words = ["the", "model", "scores", "a", "sentence", "against", "its", "reference", "and", "reports", "every", "number",
                     "with", "signature", "quantized", "weights", "drift", "little", "from", "full", "precision", "copy"]
        var state: UInt64 = 42
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var references: [String] = [], hypotheses: [String] = []
        for _ in 0..<lines {
            let sentence = (0..<(6 + next() % 10)).map { _ in words[next() % words.count] }
            references.append(sentence.joined(separator: " "))
            hypotheses.append(sentence.enumerated().map { i, w in (i + next() % 3 + variant) % 7 == 0 ? words[next() % words.count] : w }.joined(separator: " "))
        }
        try (hypotheses.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try (references.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        let suite = """
            version: 1
            name: html-test
            datasets:
              mt: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: mt, options: { confidence: true } }
            gates:
              - { metric: bleu.score, min: 10 }
            """
        let url = directory.appendingPathComponent("suite.yaml")
        try suite.write(to: url, atomically: true, encoding: .utf8)
        let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: "test-host", gitCommit: nil)
        return await SuiteRunner().run(try SuiteLoader().load(url), identity: identity, models: [], baseline: nil)
    }

    @Test func textFromARunIsEscaped() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        var run = HTMLReport.Run(try await Self.outcome(lines: 5, in: directory), itemsFile: nil)
        let hostile = "</td><script>alert(\"x\")</script><img src=x onerror=alert(1)>&amp;"
        run.items["bleu"]?[0] = ItemRow(id: hostile, values: ["note": .string(hostile), "sentence_bleu": .number(1)])
        run.document.evaluations[0].signature += "|\"><script>bad()</script>"
        // A quote with a combining mark is one Character: escaping must still reach the quote.
        run.document.evaluations[0].signature += "|\"\u{301} onmouseover=alert(1) x"
        run.document.evaluations[0].metrics[0].note = "'\u{301} onfocus=alert(2)"
        let html = HTMLReport.render(run)
        #expect(!html.contains("<script>alert") && !html.contains("<script>bad") && !html.contains("<img src=x"))
        #expect(html.contains("&lt;/td&gt;&lt;script&gt;alert"))
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        func containsBytes(_ needle: String) -> Bool {
            let haystack = bytes(html), n = bytes(needle)
            return haystack.indices.contains { $0 + n.count <= haystack.count && haystack[$0..<($0 + n.count)].elementsEqual(n) }
        }
        #expect(!containsBytes("\"\u{301} onmouseover") && containsBytes("&quot;\u{301} onmouseover"))
        #expect(!containsBytes("'\u{301} onfocus") && containsBytes("&#39;\u{301} onfocus"))
        // Exactly one script (ours) and no address outside the page.
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<link"))
        // Readable without script: the rows are in the HTML itself.
        #expect(html.components(separatedBy: "<tr").count > 5 + 3)
        // confidence: true draws the BLEU bootstrap replicates with the estimate and interval marked
        // (an image, as every chart: the SVG inline as a data: address).
        let bootstrap = try #require(run.charts["bleu"]?.first { $0.title == "BLEU: bootstrap distribution" })
        #expect(bootstrap.svg.contains("of 1000 replicates") && bootstrap.svg.contains("estimate "))
        #expect(html.contains("BLEU: bootstrap distribution") && html.contains(Data(bootstrap.svg.utf8).base64EncodedString()))
    }

    /// Each item's hypothesis and references open in a drill-down, the words that differ marked
    /// (clipped counts: a second "the" the references have once), escaped like every text.
    @Test func itemTextsOpenWithTheDifferingWordsMarked() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        var run = HTMLReport.Run(try await Self.outcome(lines: 5, in: directory), itemsFile: nil)
        let items = try #require(run.items["bleu"])
        #expect(items.allSatisfy { HTMLReport.ItemTexts.hypothesis($0) != nil && HTMLReport.ItemTexts.references($0).count == 1 })
        run.items["bleu"]?[0].values["hypothesis"] = .string("the cat sat on the mat")
        run.items["bleu"]?[0].values["references"] = .array([.string("the cat is on a mat"), .string("a cat sat")])
        run.items["bleu"]?[1].values["hypothesis"] = .string("<script>alert(1)</script> & done")
        let html = HTMLReport.render(run)
        #expect(html.components(separatedBy: "<details><summary>texts</summary>").count == 6)
        #expect(html.contains("<p class=\"h\">the cat sat on <mark>the</mark> mat</p>"))
        #expect(html.contains("<p class=\"r\">the cat <mark>is</mark> on <mark>a</mark> mat</p><p class=\"r\"><mark>a</mark> cat sat</p>"))
        #expect(!html.contains("<script>alert") && html.contains("<mark>&lt;script&gt;alert(1)&lt;/script&gt; &amp; done</mark>"))
        #expect(html.contains("data-col=\"text\"") && !html.contains("data-col=\"hypothesis\"") && !html.contains("data-col=\"references\""))
    }

    /// A perplexity chunk's drill-down: its context, then its scored tokens shaded by NLL (each
    /// shaded token titled with its value), escaped, counted exactly, highest perplexity first.
    @Test func perplexityChunksShadeTheirTokensByNLL() throws {
        func chunk(_ id: String, _ perplexity: Double) -> ItemRow {
            ItemRow(id: id, values: [
                "perplexity": .number(perplexity), "tokens": .number(4), "context": .string("Before <b> & after"),
                "token_texts": .array([" the", " cat", "<", "", "\u{301}s"].map(JSONValue.string)),
                "token_nll": .array([0.5, 9.25, 3.0, 1.0, 5.5].map(JSONValue.number)),
            ])
        }
        let items = [chunk("chunk-1", 20), chunk("chunk-2", 80), chunk("chunk-3", 40)]
        let lines = HTMLReport.ItemTexts.lines(items[0])
        #expect(lines.map(\.kind) == ["c", "s"])
        let html = HTMLTemplates.library.render(HTMLReport.itemTable([items[0]], evaluation: "ppl", textBudget: .max), withTemplate: "items") ?? ""
        #expect(html.contains("<p class=\"c\">Before &lt;b&gt; &amp; after</p>"))
        #expect(html.contains(#"<p class="s"> the<span class="n4" title="9.25 nats"> cat</span><span class="n1" title="3.00 nats">&lt;</span><span class="n3" title="6.50 nats">\#u{301}s</span></p>"#), "\(html)")
        #expect(!html.contains("data-col=\"token_texts\"") && !html.contains("data-col=\"context\"") && html.contains("data-col=\"perplexity\""))
        let drill = try #require(html.range(of: "<details>").flatMap { start in html.range(of: "</details>").map { html[start.lowerBound..<$0.upperBound] } })
        let each = HTMLReport.ItemTexts.renderedBytes(lines)
        #expect(drill.utf8.count == each, "\(drill)")
        let (chosen, by) = HTMLReport.ItemTexts.chosen(items, budget: 2 * each)
        #expect(Set(chosen.keys) == [1, 2] && by == "highest perplexity")
        #expect(HTMLReport.ItemTexts.shade(1.99) == 0 && HTMLReport.ItemTexts.shade(2) == 1 && HTMLReport.ItemTexts.shade(50) == 4 && HTMLReport.ItemTexts.shade(.nan) == 4)
        #expect(HTMLReport.ItemTexts.shade(1e300) == 4 && HTMLReport.ItemTexts.shade(.infinity) == 4 && HTMLReport.ItemTexts.shade(-1e300) == 0)
        // Chunks pair across runs only when they cut the text alike.
        #expect(HTMLReport.sameItems("mode:chunked|ctx:512|chunks:4|tokenizer:bpe|model:a", "mode:chunked|ctx:512|chunks:4|tokenizer:bpe|model:b"))
        #expect(!HTMLReport.sameItems("mode:chunked|ctx:512|tokenizer:bpe|model:a", "mode:chunked|ctx:512|tokenizer:spm|model:b"))
    }

    /// When the texts do not all fit the page's budget, the lowest-scoring items keep theirs.
    @Test func textsBeyondTheBudgetGoToTheLowestScores() throws {
        func item(_ id: String, _ score: Double) -> ItemRow {
            ItemRow(id: id, values: ["sentence_bleu": .number(score), "hypothesis": .string("a <b> & \"c\" d'e x"),
                                     "references": .array([.string("x y z")])])
        }
        let items = [item("a", 50), item("b", 10), item("c", 30), item("d", .nan)]
        let lines = HTMLReport.ItemTexts.lines(items[0])
        let each = HTMLReport.ItemTexts.renderedBytes(lines)
        // The count is what the template writes: one item's drill-down rendered alone.
        let rendered = HTMLReport.itemTable([items[0]], evaluation: "bleu", textBudget: .max)
        let html = HTMLTemplates.library.render(rendered, withTemplate: "items") ?? ""
        let drill = try #require(html.range(of: "<details>").flatMap { start in html.range(of: "</details>").map { html[start.lowerBound..<$0.upperBound] } })
        #expect(drill.utf8.count == each, "\(drill)")
        let (two, by) = HTMLReport.ItemTexts.chosen(items, budget: 2 * each + 1)
        #expect(Set(two.keys) == [1, 2] && by == "lowest sentence_bleu")
        // In order until one does not fit: a long text is cut, never the reason a low score is skipped.
        var long = items
        long[1].values["hypothesis"] = .string(String(repeating: "word ", count: 5_000))
        let cut = HTMLReport.ItemTexts.lines(long[1])[0].segments.map(\.text).joined()
        #expect(cut.count <= HTMLReport.ItemTexts.textLimit + 2 && cut.hasSuffix(" …"))
        let bigBudget = HTMLReport.ItemTexts.renderedBytes(HTMLReport.ItemTexts.lines(long[1])) + each
        #expect(Set(HTMLReport.ItemTexts.chosen(long, budget: bigBudget).lines.keys) == [1, 2])
        // human-agreement items: the largest gap between the human and the metric category first.
        let agreement = (0..<3).map { i in
            ItemRow(id: "\(i)", values: ["human_category": .number(Double(i)), "metric_category": .number(0), "hypothesis": .string("abc"),
                                         "references": .array([.string("abd")])])
        }
        let oneAgreement = HTMLReport.ItemTexts.renderedBytes(HTMLReport.ItemTexts.lines(agreement[0]))
        let (gapFirst, gapBy) = HTMLReport.ItemTexts.chosen(agreement, budget: oneAgreement)
        #expect(Set(gapFirst.keys) == [2] && gapBy?.contains("gap") == true)
        #expect(HTMLReport.ItemTexts.chosen(items, budget: 4 * each).lines.count == 4)
        let table = HTMLReport.itemTable(items, evaluation: "bleu", textBudget: 2 * each)
        #expect((table["caption"] as? String)?.contains("texts of 2 (lowest sentence_bleu first) in the text column") == true)
    }

    @Test func tenThousandItemsStayUnderTwoMegabytesAndWorkInABrowser() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let outcome = try await Self.outcome(lines: 10_000, in: directory)
        let written = try ReportWriter(directory: directory.appendingPathComponent("reports")).write(outcome, junit: nil, stepSummary: nil)
        let url = try #require(written.html)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size <= 2_000_000, "the 10,000-item report is \(size) bytes")

        // The filter compares the numbers as the page shows them; a third of the rows lie below the threshold.
        let items = try #require(outcome.evaluations.first?.items)
        let shown = items.map { item -> Double in
            if case let .number(v)? = item.values["sentence_bleu"] { return Double(GateJudge.format(v)) ?? .nan } else { return .nan }
        }
        let threshold = shown.sorted()[items.count / 3]
        let expected = shown.filter { $0 < threshold }.count
        #expect(expected > 1000 && expected < items.count)
        let page = try Chromium.dumpDOM(url, fragment: "f=sentence_bleu%20%3C%20\(GateJudge.format(threshold))&sort=sentence_bleu:desc")
        #expect(page.errors.isEmpty, "console: \(page.errors)")
        #expect(page.dom.contains("data-errors=\"0\""))
        #expect(page.dom.contains("data-visible-rows=\"\(expected)\""))
        #expect(page.dom.contains("data-sorted-by=\"sentence_bleu:desc\""))
        let visible = Self.visibleRows(page.dom)
        #expect(visible.count == expected)
        let column = try #require(Self.header(page.dom).firstIndex(of: "sentence_bleu"))
        let values = visible.compactMap { Double($0[column]) }
        #expect(values.count == expected && values == values.sorted(by: >) && values.allSatisfy { $0 < threshold })
        let ready = try #require(Self.attribute("data-ready-ms", in: page.dom).flatMap(Double.init))
        print("10,000-item report: \(size) bytes, tables ready \(ready) ms after navigation start")

        // Texts open from the rows within the page's budget, lowest scores first.
        let drilled = page.dom.components(separatedBy: "<summary>texts</summary>").count - 1
        #expect(drilled > 1000 && drilled < items.count, "\(drilled) drill-downs")
        // The search reads a drill-down's paragraphs, not its "texts" label (no item has that word).
        #expect(Self.visibleRows(try Chromium.dumpDOM(url, fragment: "q=texts").dom).isEmpty)

        // A search keeps the rows with the text in any cell.
        let query = items[1234].id
        let found = Self.visibleRows(try Chromium.dumpDOM(url, fragment: "q=\(query)").dom)
        #expect(found.contains { $0.first == query } && found.count < 50 && found.allSatisfy { $0.contains { $0.contains(query) } })
    }

    @Test func comparisonShowsPairedTestsAndMovedItems() async throws {
        let directoryA = try TestEnvironment.temporaryDirectory(), directoryB = try TestEnvironment.temporaryDirectory()
        let a = HTMLReport.Run(try await Self.outcome(lines: 300, in: directoryA), itemsFile: nil)
        let b = HTMLReport.Run(try await Self.outcome(lines: 300, variant: 3, in: directoryB), itemsFile: nil)
        func side(_ run: HTMLReport.Run) -> [String: RunComparison.Side] {
            Dictionary(uniqueKeysWithValues: run.document.evaluations.flatMap { e in
                e.metrics.map { ("\(e.id).\($0.name)", RunComparison.Side(value: $0.value, stderr: $0.stderr, higherIsBetter: $0.higher_is_better)) }
            })
        }
        let sa = side(a), sb = side(b)
        let comparison = RunComparison(runA: a.document.run_id, runB: b.document.run_id, metrics: sa.keys.sorted().map { ($0, sa[$0], sb[$0]) })
        let html = HTMLReport.renderComparison(a: a, b: b, comparison: comparison, movedItems: 25)
        #expect(html.contains("300 paired items on sentence_bleu"))
        // Each moved item opens A's and B's hypotheses, marked against the reference.
        #expect(html.components(separatedBy: "<summary>texts</summary><p class=\"a\">").count == 26)
        #expect(html.components(separatedBy: "<p class=\"b\">").count == 26 && html.components(separatedBy: "<p class=\"r\">").count == 26)
        #expect(html.contains("<mark>"))
        let url = directoryA.appendingPathComponent("compare.html")
        try html.write(to: url, atomically: true, encoding: .utf8)
        let page = try Chromium.dumpDOM(url, fragment: "sort=delta:asc")
        #expect(page.errors.isEmpty && page.dom.contains("data-errors=\"0\""))
        let moved = Self.visibleRows(page.dom, table: 1)
        #expect(moved.count == 25)
        let deltas = moved.compactMap { Double($0[3]) }
        #expect(deltas == deltas.sorted())
    }

    // MARK: reading the dumped DOM

    /// The cells of the `index`-th `table.items`'s rows that are not hidden.
    static func visibleRows(_ dom: String, table index: Int = 0) -> [[String]] {
        let tables = dom.components(separatedBy: "class=\"items\"").dropFirst()
        guard index < tables.count else { return [] }
        let table = tables[tables.index(tables.startIndex, offsetBy: index)]
        guard let body = table.components(separatedBy: "<tbody>").dropFirst().first?.components(separatedBy: "</tbody>").first else { return [] }
        return body.components(separatedBy: "<tr").dropFirst().filter { row in
            let tag = row.prefix { $0 != ">" }
            return !tag.contains("hidden") && !tag.contains("class=\"detail\"")
        }.map { row in
            row.components(separatedBy: "<td").dropFirst().map { cell in
                let text = cell.drop { $0 != ">" }.dropFirst()
                return String(text.prefix { $0 != "<" })
            }
        }
    }

    /// The column names (`data-col`) of the first items table.
    static func header(_ dom: String) -> [String] {
        guard let head = dom.components(separatedBy: "class=\"items\"").dropFirst().first?.components(separatedBy: "</thead>").first else { return [] }
        return head.components(separatedBy: "data-col=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    static func attribute(_ name: String, in dom: String) -> String? {
        dom.components(separatedBy: "\(name)=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) }
    }
}
