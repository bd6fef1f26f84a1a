import AssayEvaluators
import AssayStats
import AssayTestSupport
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

struct RatingsFileTests {
    func load(_ text: String, format: RatingsFormat, scale: RatingScale, columns: RatingsColumns = RatingsColumns()) throws -> RatingSet {
        let (raw, problems) = RatingsFile.read(Data(text.utf8), path: "r", format: format, columns: columns)
        return try RatingSet.build(name: "t", scale: scale, raw: raw, path: "r", readProblems: problems)
    }

    func problems(_ data: Data, format: RatingsFormat, scale: RatingScale) -> [String] {
        let (raw, problems) = RatingsFile.read(data, path: "r", format: format, columns: RatingsColumns())
        do {
            _ = try RatingSet.build(name: "t", scale: scale, raw: raw, path: "r", readProblems: problems)
        } catch let RatingsError.malformed(_, problems, _) {
            return problems
        } catch {
            Issue.record("unexpected \(error)")
        }
        return []
    }

    @Test func csvWithQuotesAndDeclaredOrder() throws {
        let set = try load("item,rater,label\n\"a,1\",r1,good\n\"a,1\",r2,\"bad\"\nb,r1,ok\nb,r1,ok\n", format: .csv,
                           scale: .categories(["bad", "ok", "good"]))
        #expect(set.ratings == [
            Rating(item: "a,1", rater: "r1", category: 2, value: nil),
            Rating(item: "a,1", rater: "r2", category: 0, value: nil),
            Rating(item: "b", rater: "r1", category: 1, value: nil),
        ])
        #expect(set.categories == ["bad", "ok", "good"])
    }

    @Test func malformedRowsAreAllListedWithLineNumbers() {
        var data = Data("item,rater,label\n1,a,good\n2,a,great\n2,b,\n1,a,bad\n".utf8)
        data.append(contentsOf: [0x33, 0x2C, 0x61, 0x2C, 0xFF, 0x0A])
        let found = problems(data, format: .csv, scale: .categories(["bad", "ok", "good"]))
        #expect(found == [
            "line 3: label 'great' is not on the scale (expected one of bad, ok, good)",
            "line 4: missing 'label'",
            "line 5: item '1' rated by 'a' again with 'bad' (line 2 says 'good')",
            "line 6: not valid UTF-8",
        ])
    }

    /// RFC 4180 quoting: separators, doubled quotes and line breaks inside quotes are data; text
    /// after a closing quote and a quote left open are problems with their line.
    @Test func quotedFieldsFollowRFC4180() {
        let good = Data("item,rater,label\n\"1,x\",a,\"say \"\"ok\"\"\"\n\"2\n3\"  ,b,bad\n".utf8)
        let (raw, goodProblems) = RatingsFile.read(good, path: "r", format: .csv, columns: RatingsColumns())
        #expect(goodProblems.isEmpty)
        #expect(raw.map(\.item) == ["1,x", "2\n3"] && raw.map(\.label) == ["say \"ok\"", "bad"])
        let broken = Data("item,rater,label\n1,a,\"good\"ish\n\"2\n2\"x,a,ok\n2,a,\"open\n3,a,ok\n".utf8)
        let (_, found) = RatingsFile.read(broken, path: "r", format: .csv, columns: RatingsColumns())
        #expect(found == [
            "line 2: text after the closing quote of field 3 (a quoted field ends at its quote; write a quote inside it as \"\")",
            "line 4: text after the closing quote of field 1 (a quoted field ends at its quote; write a quote inside it as \"\")",
            "line 5: unterminated quoted field",
        ])
    }

    /// A field may begin with a combining mark: the separator and the quote before it stay
    /// separate (a reader that splits on Swift Characters joins `,` + U+0301 into one grapheme).
    @Test func combiningMarksAfterSeparatorsAndQuotes() {
        let data = Data("item,rater,label\na,\u{301}r,good\n\"\u{301}b\",r,\"\u{301}\"\n".utf8)
        let (raw, problems) = RatingsFile.read(data, path: "r", format: .csv, columns: RatingsColumns())
        #expect(problems.isEmpty)
        #expect(raw.map(\.item) == ["a", "\u{301}b"])
        #expect(raw.map(\.rater) == ["\u{301}r", "r"])
        #expect(raw.map(\.label) == ["good", "\u{301}"])
    }

    @Test func atMostTwentyProblemsAreListed() {
        let rows = (1...30).map { "\($0),a,nope" }.joined(separator: "\n")
        let (raw, read) = RatingsFile.read(Data("item,rater,label\n\(rows)\n".utf8), path: "r", format: .csv, columns: RatingsColumns())
        #expect(throws: RatingsError.self) { try RatingSet.build(name: "t", scale: .categories(["x", "y"]), raw: raw, path: "r", readProblems: read) }
        do {
            _ = try RatingSet.build(name: "t", scale: .categories(["x", "y"]), raw: raw, path: "r", readProblems: read)
        } catch let RatingsError.malformed(_, problems, total) {
            #expect(problems.count == 20 && total == 30)
        } catch {}
    }

    /// Hostile rows that were cut, dropped or echoed whole before: each is a located problem now.
    @Test func nulBytesExtraFieldsAndHugeLabelsAreProblems() {
        var data = Data("item,rater,label\n1,a,good\n".utf8)
        data.append(contentsOf: Array("2,a\u{0}x,good\n".utf8))  // a raw NUL inside the rater
        data.append(contentsOf: Array("3,a,good,extra\n".utf8))
        data.append(contentsOf: Array("5,a,good,\n".utf8))  // a trailing separator is fine
        data.append(contentsOf: Array("4,a,\(String(repeating: "z", count: 5_000_000))\n".utf8))
        let found = problems(data, format: .csv, scale: .categories(["bad", "good"]))
        #expect(found.count == 3)
        #expect(found[0] == "line 3: a NUL byte at byte 4 of the line (ids and labels cannot hold one)")
        #expect(found[1] == "line 4: 4 fields where the header names 3 (quote fields that hold the separator)")
        #expect(found[2].hasPrefix("line 6: label 'zzzz") && found[2].contains("…' (5000000 bytes)") && found[2].count < 200)
        // JSON's \u0000 escape reaches the ids without a raw NUL byte.
        let jsonl = problems(Data(#"{"item": "1", "rater": "a\u0000b", "label": "good"}"#.utf8), format: .jsonl, scale: .categories(["good"]))
        #expect(jsonl == ["line 1: a NUL character in the item, rater or label (ids and labels cannot hold one)"])
    }

    @Test func aByteOrderMarkDoesNotHideTheFirstColumn() throws {
        var data = Data([0xEF, 0xBB, 0xBF])
        data.append(contentsOf: Array("item,rater,label\n1,a,good\n1,b,good\n".utf8))
        let (raw, problems) = RatingsFile.read(data, path: "r", format: .csv, columns: RatingsColumns())
        #expect(problems.isEmpty && raw.count == 2 && raw[0].item == "1")
        var json = Data([0xEF, 0xBB, 0xBF])
        json.append(contentsOf: Array(#"[{"id": 7, "annotations": []}, {"id": 8}]"#.utf8))
        let studio = RatingsFile.read(json, path: "r", format: .labelStudio, columns: RatingsColumns())
        // An empty list is a task nobody rated; a task without the list is not an export.
        #expect(studio.problems == ["task 2 (id 8): no 'annotations' list (export the project as JSON from Label Studio; JSON-MIN and old 'completions' exports are not read)"])
    }

    @Test func missingHeaderColumnNamesThem() {
        let found = problems(Data("id,who,score\n1,a,3\n".utf8), format: .csv, scale: .categories(["1", "2", "3"]))
        #expect(found.first?.contains("no column 'item', 'rater', 'label'") == true)
    }

    /// A column in use named twice (found by probing, 2026-12-07): the first had been taken
    /// silently. Duplicates among columns not in use stay harmless.
    @Test func aColumnInUseNamedTwiceIsRefused() {
        let found = problems(Data("item,rater,label,note,label\n1,a,3,x,1\n".utf8), format: .csv, scale: .categories(["1", "2", "3"]))
        #expect(found == ["line 1: the header names 'label' (columns 3, 5) more than once; rename the one you do not mean, or map another column with --item, --rater, --label"], "\(found)")
        let (raw, unused) = RatingsFile.read(Data("item,rater,label,note,note\n1,a,3,x,y\n".utf8), path: "r", format: .csv, columns: RatingsColumns())
        #expect(unused.isEmpty && raw.first?.label == "3")
    }

    @Test func jsonlWithJoinedItemAndBins() throws {
        let text = """
            {"system": "A", "seg": 1, "who": "r1", "mqm": 0}
            {"system": "A", "seg": 1, "who": "r2", "mqm": 5}
            {"system": "B", "seg": 1, "who": "r1", "mqm": 5.5}
            {"system": "B", "seg": 1, "who": "r2", "mqm": 30}
            """
        let set = try load(text, format: .jsonl, scale: .numeric(bins: [0, 5, 10]),
                           columns: RatingsColumns(item: ["system", "seg"], rater: "who", label: "mqm"))
        #expect(set.ratings.map(\.item) == ["A#1", "A#1", "B#1", "B#1"])
        #expect(set.ratings.map(\.category) == [0, 1, 2, 3])
        #expect(set.categories == ["≤0", "(0,5]", "(5,10]", ">10"])
    }

    @Test func unbinnedNumericScaleUsesTheValues() throws {
        let set = try load("item,rater,label\n1,a,2.5\n1,b,10\n2,a,2.5\n", format: .csv, scale: .numeric(bins: nil))
        #expect(set.categories == ["2.5", "10"])
        #expect(set.categoryValues == [2.5, 10])
        // Decimal numbers only, as Python's float reads them (Swift's Double(_:) read 0x10 as 16).
        let found = problems(Data("item,rater,label\n1,a,0x10\n1,b,16\n2,a,1e1\n".utf8), format: .csv, scale: .numeric(bins: nil))
        #expect(found.count == 1 && found.first?.hasPrefix("line 2:") == true && found.first?.contains("0x10") == true, "\(found)")
        #expect(throws: RatingsError.self) { try RatingScale.parse(scale: nil, bins: "0x1,5", numeric: false) }
    }

    @Test func labelStudioExport() throws {
        let export = """
            [
              {"id": 7, "data": {"text": "x"}, "annotations": [
                {"completed_by": 1, "result": [{"from_name": "quality", "type": "choices", "value": {"choices": ["good"]}}]},
                {"completed_by": {"id": 2, "email": "b@example.org"}, "result": [{"from_name": "quality", "type": "choices", "value": {"choices": ["bad"]}}]},
                {"completed_by": 3, "was_cancelled": true, "result": []}
              ]},
              {"id": 8, "data": {"text": "y"}, "annotations": [
                {"completed_by": 1, "result": [{"from_name": "stars", "type": "rating", "value": {"rating": 4}}]}
              ]}
            ]
            """
        let (raw, problems) = RatingsFile.read(Data(export.utf8), path: "e.json", format: .labelStudio, columns: RatingsColumns())
        #expect(problems.isEmpty)
        #expect(raw.map(\.item) == ["7", "7", "8"])
        #expect(raw.map(\.rater) == ["1", "b@example.org", "1"])
        #expect(raw.map(\.label) == ["good", "bad", "4"])
        let (filtered, _) = RatingsFile.read(Data(export.utf8), path: "e.json", format: .labelStudio,
                                             columns: RatingsColumns(label: "quality"))
        #expect(filtered.count == 2)
    }

    /// A field of the wrong kind is not "missing", a line that is not JSON is not "not an object",
    /// and an annotation with two choices gets one message.
    @Test func problemsSayWhatIsWrongOnce() {
        let jsonl = """
            {"item": 1, "rater": "a", "label": [1]}
            {"item": 1, "rater": "a", "label": NaN}
            [1, 2]
            {"item": 1, "label": 3}
            {"item": 1, "rater": "", "label": {"x": 1}}
            {"item": 1, "rater": "a", "label": 1e309}
            """
        #expect(RatingsFile.read(Data(jsonl.utf8), path: "r", format: .jsonl, columns: RatingsColumns()).problems == [
            "line 1: 'label' is a JSON list; expected a non-empty string or a number",
            "line 2: not valid JSON: Invalid value around character 35 (NaN and Infinity are not JSON: write null or a string)",
            "line 3: a JSON list, not an object",
            "line 4: missing 'rater' (fields: item, label)",
            "line 5: 'rater' is an empty string, 'label' is a JSON object; expected a non-empty string or a number",
            "line 6: not valid JSON: Number 1e309 is beyond a double's range",
        ])
        let export = #"[{"id": 7, "annotations": [{"completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["a", "b"]}}]}]}]"#
        #expect(RatingsFile.read(Data(export.utf8), path: "e.json", format: .labelStudio, columns: RatingsColumns()).problems
                == ["task 1 (id 7): rater 1 chose 2 options; expected one (a single-choice question)"])
    }

    @Test func scaleParsing() throws {
        #expect(try RatingScale.parse(scale: "1,2,3", bins: nil, numeric: false) == .categories(["1", "2", "3"]))
        #expect(try RatingScale.parse(scale: nil, bins: "0,5,10", numeric: false) == .numeric(bins: [0, 5, 10]))
        #expect(throws: RatingsError.self) { try RatingScale.parse(scale: "a,a", bins: nil, numeric: false) }
        #expect(throws: RatingsError.self) { try RatingScale.parse(scale: nil, bins: "5,0", numeric: false) }
        #expect(throws: RatingsError.self) { try RatingScale.parse(scale: nil, bins: nil, numeric: false) }
    }
}

struct AgreementAnalysisTests {
    @Test func weightedKappaFollowsDeclaredOrderNotLabelSortOrder() throws {
        // Labels whose alphabetical order (bad < good < ok) differs from the declared order.
        let rows = [("1", "bad", "ok"), ("2", "ok", "good"), ("3", "good", "good"), ("4", "bad", "bad"), ("5", "ok", "bad")]
        let raw = rows.flatMap { [RawRating(location: "", item: $0.0, rater: "a", label: $0.1), RawRating(location: "", item: $0.0, rater: "b", label: $0.2)] }
        let set = try RatingSet.build(name: "s", scale: .categories(["bad", "ok", "good"]), raw: raw, path: "", readProblems: [])
        let analysis = try AgreementAnalysis(set, weighting: .quadratic, level: .ordinal)
        let order = ["bad": 0, "ok": 1, "good": 2]
        let expected = CohenKappa(pairs: rows.map { (order[$0.1]!, order[$0.2]!) }, categories: 3, weighting: .quadratic)
        #expect(analysis.pairs.first?.kappa == expected.kappa)
        #expect(analysis.pairs.first?.confusion == [[1, 1, 0], [1, 0, 1], [0, 0, 1]])
    }

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers × 12 units,
    /// values 1–5 with gaps. The paper gives α = 0.743 nominal, 0.815 ordinal, 0.849 interval and
    /// 0.797 ratio. Imported as `--scale 1,2,3,4,5` the labels are numbers, and interval and ratio
    /// must use them (ratio on the positions 0–4 gave 0.734).
    @Test func krippendorffsOwnExampleOnANumericScale() throws {
        let observers = ["A": "1 2 3 3 2 1 4 1 2 . . .", "B": "1 2 3 3 2 2 4 1 2 5 . 3",
                         "C": ". 3 3 3 2 3 4 2 2 5 1 .", "D": "1 2 3 3 2 4 4 1 2 5 1 ."]
        var raw: [RawRating] = []
        for (rater, row) in observers {
            for (unit, label) in row.split(separator: " ").enumerated() where label != "." {
                raw.append(RawRating(location: "", item: "u\(unit + 1)", rater: rater, label: String(label)))
            }
        }
        let set = try RatingSet.build(name: "k2011", scale: .categories(["1", "2", "3", "4", "5"]), raw: raw, path: "", readProblems: [])
        for (level, expected) in [(KrippendorffAlpha.Level.nominal, 0.743), (.ordinal, 0.815), (.interval, 0.849), (.ratio, 0.797)] {
            let alpha = try #require(try AgreementAnalysis(set, weighting: .none, level: level).krippendorff.alpha)
            #expect(abs(alpha - expected) < 6e-4, "\(level): \(alpha)")
        }
    }

    @Test func intervalAndRatioRefuseLabelsThatAreNotNumbers() throws {
        let raw = [RawRating(location: "", item: "1", rater: "a", label: "bad"), RawRating(location: "", item: "1", rater: "b", label: "ok"),
                   RawRating(location: "", item: "2", rater: "a", label: "good"), RawRating(location: "", item: "2", rater: "b", label: "good")]
        let set = try RatingSet.build(name: "s", scale: .categories(["bad", "ok", "good"]), raw: raw, path: "", readProblems: [])
        for level in [KrippendorffAlpha.Level.interval, .ratio] {
            #expect(throws: RatingsError.levelNeedsNumbers(level: level.rawValue, labels: ["bad", "ok", "good"])) {
                try AgreementAnalysis(set, weighting: .none, level: level)
            }
        }
        let error = RatingsError.levelNeedsNumbers(level: "ratio", labels: ["bad"])
        #expect(error.recoverySuggestion?.contains("--numeric") == true && error.recoverySuggestion?.contains("--bins") == true)
        _ = try AgreementAnalysis(set, weighting: .none, level: .ordinal)  // ordered labels: fine
    }

    /// The ratio distance ((a − b)/(a + b))² is for scales that start at 0: with -1 and 1 it had
    /// counted raters who disagreed on every item as agreeing (alpha 1, a gate passed on it; found by
    /// probing, 2026-12-07). Negative labels are refused at the ratio level and measured at interval.
    @Test func ratioRefusesNegativeLabels() throws {
        let set = try RatingsFileTests().load("item,rater,label\na,x,-1\na,y,1\nb,x,-1\nb,y,1\nc,x,2\nc,y,-2\n", format: .csv, scale: .numeric(bins: nil))
        #expect(throws: RatingsError.ratioNeedsNonNegative(labels: ["-2", "-1"])) { try AgreementAnalysis(set, weighting: .none, level: .ratio) }
        let interval = try #require(try AgreementAnalysis(set, weighting: .none, level: .interval).krippendorff.alpha)
        #expect(interval < 0, "\(interval)")
        #expect(RatingsError.ratioNeedsNonNegative(labels: ["-1"]).recoverySuggestion?.contains("--level interval") == true)
    }

    @Test func degenerateSetsGiveNullsWithReasons() throws {
        let raw = [RawRating(location: "", item: "1", rater: "a", label: "x"), RawRating(location: "", item: "1", rater: "b", label: "x"),
                   RawRating(location: "", item: "2", rater: "a", label: "x"), RawRating(location: "", item: "2", rater: "b", label: "x")]
        let set = try RatingSet.build(name: "s", scale: .categories(["x", "y"]), raw: raw, path: "", readProblems: [])
        let analysis = try AgreementAnalysis(set, weighting: .none, level: .nominal)
        #expect(analysis.pairs.first?.kappa == nil)
        #expect(analysis.pairs.first?.reason?.contains("one category") == true)
        #expect(analysis.fleiss.kappa == nil && analysis.krippendorff.alpha == nil)
        let json = String(decoding: try JSONEncoder().encode(analysis), as: UTF8.self)
        #expect(!json.contains("NaN") && json.contains("\"kappa\":null"))
    }
}
