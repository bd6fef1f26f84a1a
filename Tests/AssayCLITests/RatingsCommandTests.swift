import AssayTestSupport
import Foundation
import Testing

/// `assay ratings import` and `assay agreement` end to end, checked against the goldens that
/// scripts/goldens/agreement_goldens.py computed with scikit-learn/statsmodels/krippendorff.
struct RatingsCommandTests {
    static func dataRoot() throws -> URL { try TestEnvironment.sharedData("wmt-mqm").deletingLastPathComponent() }

    @Test func importThenAgreementEqualsReferenceLibraries() throws {
        let root = try Self.dataRoot()
        let directory = try TestEnvironment.temporaryDirectory()
        let store = directory.appendingPathComponent("s.sqlite").path
        let segments = root.appendingPathComponent("wmt-mqm/generalmt2023-zhen-sxs/segments.jsonl").path
        let arguments = ["ratings", "import", segments, "--set", "wmt23", "--item", "system,seg_id", "--label", "mqm_score",
                         "--bins", "0,5,10", "--store", store]
        let imported = try AssayProcess.run(arguments)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 11310 ratings into new set 'wmt23' (3770 items, 8 raters"))
        let again = try AssayProcess.run(arguments)
        #expect(again.stdout.contains("nothing changed"))

        let golden = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestEnvironment.root.appendingPathComponent("Tests/AssayStatsTests/Golden/agreement.json"))) as? [String: Any])
        let wmt = try #require(golden["wmt23"] as? [String: Any])
        let goldenPairs = try #require(wmt["pairs"] as? [[String: Any]])
        for weighting in ["none", "linear", "quadratic"] {
            let result = try AssayProcess.run(["agreement", "--set", "wmt23", "--weights", weighting, "--level", "interval", "--format", "json", "--store", store])
            #expect(result.status == 0)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let pairs = try #require(object["pairs"] as? [[String: Any]])
            #expect(pairs.count == goldenPairs.count)
            for (pair, expected) in zip(pairs, goldenPairs) {
                #expect(pair["raters"] as? [String] == expected["raters"] as? [String])
                let values = try #require(expected[weighting] as? [String: Double])
                for (key, goldenKey) in [("kappa", "kappa"), ("ase", "ase"), ("ci_low", "ci_low"), ("ci_high", "ci_high")] {
                    #expect(abs((pair[key] as? Double ?? .nan) - values[goldenKey]!) <= 1e-9, "\(weighting) \(key)")
                }
            }
            let fleiss = try #require(object["fleiss"] as? [String: Any]), goldenFleiss = try #require(wmt["fleiss"] as? [String: Any])
            #expect(abs((fleiss["kappa"] as? Double ?? .nan) - (goldenFleiss["kappa"] as! Double)) <= 1e-9)
            #expect(abs((fleiss["randolph"] as? Double ?? .nan) - (goldenFleiss["randolph"] as! Double)) <= 1e-9)
            let alpha = (object["krippendorff"] as? [String: Any])?["alpha"] as? Double
            #expect(abs((alpha ?? .nan) - ((wmt["krippendorff"] as! [String: Double])["interval"]!)) <= 1e-9)
        }
    }

    /// `--numeric` on the raw MQM points: each of the 199 distinct scores is a category, and
    /// every statistic equals the reference libraries' on the same labels (kappa against
    /// statsmodels/scikit-learn on 199 × 199 tables; Krippendorff's interval and ratio on the
    /// scores themselves). Confusion tables that large come as nonzero cells, not 40,000 numbers
    /// per pair, and the Markdown leaves them out.
    @Test func numericScoresEqualReferenceLibraries() throws {
        let segments = try Self.dataRoot().appendingPathComponent("wmt-mqm/generalmt2023-zhen-sxs/segments.jsonl").path
        let golden = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: TestEnvironment.root.appendingPathComponent("Tests/AssayStatsTests/Golden/agreement.json"))) as? [String: Any])
        let numeric = try #require(golden["wmt23_numeric"] as? [String: Any])
        let goldenPairs = try #require(numeric["pairs"] as? [[String: Any]])
        let goldenAlpha = try #require(numeric["krippendorff"] as? [String: Double])
        let goldenFleiss = try #require(numeric["fleiss"] as? [String: Any])
        let base = ["agreement", segments, "--item", "system,seg_id", "--label", "mqm_score", "--numeric"]
        for (weighting, level) in [("none", "nominal"), ("linear", "ordinal"), ("quadratic", "interval"), ("quadratic", "ratio")] {
            let result = try AssayProcess.run(base + ["--weights", weighting, "--level", level, "--format", "json"])
            #expect(result.status == 0, "\(result.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect((object["categories"] as? [String])?.count == 199)
            let pairs = try #require(object["pairs"] as? [[String: Any]])
            #expect(pairs.count == goldenPairs.count)
            for (pair, expected) in zip(pairs, goldenPairs) {
                #expect(pair["raters"] as? [String] == expected["raters"] as? [String])
                let values = try #require(expected[weighting] as? [String: Double])
                for key in ["kappa", "ase", "ci_low", "ci_high"] {
                    #expect(abs((pair[key] as? Double ?? .nan) - values[key]!) <= 1e-9, "\(weighting) \(key)")
                }
                #expect(pair["confusion"] == nil)
                let cells = try #require(pair["confusion_cells"] as? [[Int]])
                #expect(cells.allSatisfy { $0.count == 3 && (0..<199).contains($0[0]) && (0..<199).contains($0[1]) && $0[2] > 0 })
                #expect(cells.reduce(0) { $0 + $1[2] } == pair["n"] as? Int)
            }
            let fleiss = try #require(object["fleiss"] as? [String: Any])
            #expect(abs((fleiss["kappa"] as? Double ?? .nan) - (goldenFleiss["kappa"] as! Double)) <= 1e-9)
            #expect(abs((fleiss["randolph"] as? Double ?? .nan) - (goldenFleiss["randolph"] as! Double)) <= 1e-9)
            let alpha = (object["krippendorff"] as? [String: Any])?["alpha"] as? Double
            #expect(abs((alpha ?? .nan) - goldenAlpha[level]!) <= 1e-9, "alpha \(level)")
        }
        let markdown = try AssayProcess.run(base)
        #expect(markdown.status == 0)
        #expect(markdown.stdout.contains("Confusion matrices are left out: 199 categories (more than 32)"))
        #expect(!markdown.stdout.contains("### Confusion") && markdown.stdout.utf8.count < 10_000)
    }

    @Test func interRaterSuiteWritesAHeatmapBesideTheReport() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let suite = TestEnvironment.root.appendingPathComponent("suites/examples/inter-rater.yaml").path
        let result = try AssayProcess.run(["run", suite, "--store", "s.sqlite", "--out", "out", "--format", "json"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let runID = try #require(report["run_id"] as? String)
        let evaluation = try #require((report["evaluations"] as? [[String: Any]])?.first)
        #expect(evaluation["artifacts"] as? [String] == ["\(runID).raters.kappa-heatmap.svg"])
        let svg = directory.appendingPathComponent("out/example-inter-rater/\(runID).raters.kappa-heatmap.svg")
        #expect(try String(contentsOf: svg, encoding: .utf8).hasPrefix("<svg "))
        let markdown = try String(contentsOf: directory.appendingPathComponent("out/example-inter-rater/\(runID).md"), encoding: .utf8)
        #expect(markdown.contains("![Pairwise kappa](\(runID).raters.kappa-heatmap.svg)"))
        let validator = try JSONSchemaValidator(schemaAt: TestEnvironment.reportSchema)
        #expect(try validator.violations(of: Data(result.stdout.utf8)) == [])
    }

    @Test func malformedFileImportsNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try "item,rater,label\n1,a,4\n1,b,9\n2,a,\n".write(to: directory.appendingPathComponent("r.csv"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["ratings", "import", "r.csv", "--set", "x", "--scale", "1,2,3,4,5", "--store", "s.sqlite"], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3: label '9' is not on the scale"))
        #expect(result.stderr.contains("line 4: missing 'label'"))
        let list = try AssayProcess.run(["ratings", "list", "--store", "s.sqlite"], in: directory)
        #expect(list.stdout.hasPrefix("no ratings sets"))
    }

    /// Rater and label names in `assay agreement --format md` are escaped: a pipe cannot split a
    /// table cell, a tag is text (they had gone in raw).
    @Test func agreementMarkdownEscapesNames() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let rows = ["item,rater,label"] + (1...6).flatMap { i in ["\(i),a|b,\(i % 2 == 0 ? "<b>x</b>" : "y")", "\(i),<script>s</script>,\(i % 3 == 0 ? "<b>x</b>" : "y")"] }
        try rows.joined(separator: "\n").appending("\n").write(to: directory.appendingPathComponent("r.csv"), atomically: true, encoding: .utf8)
        let imported = try AssayProcess.run(["ratings", "import", "r.csv", "--set", "names", "--scale", "y,<b>x</b>", "--store", "s.sqlite"], in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        let result = try AssayProcess.run(["agreement", "--set", "names", "--weights", "none", "--format", "md", "--store", "s.sqlite"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("a\\|b") && result.stdout.contains("&lt;script&gt;s&lt;/script&gt;") && result.stdout.contains("&lt;b&gt;x&lt;/b&gt;"),
                "\(result.stdout)")
        #expect(!result.stdout.contains("<script>") && !result.stdout.contains("<b>"))
    }
}
