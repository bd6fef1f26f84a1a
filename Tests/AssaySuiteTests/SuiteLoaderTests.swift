import AssayEvaluators
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

/// A temporary directory with a small parallel corpus, for suites to point at.
struct SuiteSandbox {
    let directory: URL

    init() throws {
        directory = try TestEnvironment.temporaryDirectory("assay-suite")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data/subdir"), withIntermediateDirectories: true)
        try "a small test\nanother line\n".write(to: directory.appendingPathComponent("data/hyp.txt"), atomically: true, encoding: .utf8)
        try "a small test\nanother line here\n".write(to: directory.appendingPathComponent("data/ref.txt"), atomically: true, encoding: .utf8)
    }

    /// Writes `text` as suite.yaml and loads it.
    func load(_ text: String, environment: [String: String] = [:]) throws -> Suite {
        let url = directory.appendingPathComponent("suite.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try SuiteLoader(environment: environment).load(url)
    }

    /// The diagnostics of loading `text`, which must fail.
    func diagnostics(_ text: String, environment: [String: String] = [:]) throws -> [SuiteDiagnostic] {
        do {
            _ = try load(text, environment: environment)
        } catch let error as SuiteError {
            return error.diagnostics
        }
        Issue.record("suite loaded but should have failed:\n\(text)")
        return []
    }
}

/// The valid suite most malformed cases start from.
let validSuite = """
    version: 1
    name: sample
    datasets:
      mt: { kind: parallel, hypotheses: data/hyp.txt, references: [data/ref.txt] }
    evaluations:
      - id: bleu
        evaluator: bleu
        dataset: mt
        options: { tokenize: 13a }
    gates:
      - { metric: bleu.score, min: 10 }
    """

struct SuiteLoaderTests {
    @Test func validSuiteLoadsWithRelativePathsAndDefaults() throws {
        let sandbox = try SuiteSandbox()
        let suite = try sandbox.load(validSuite)
        #expect(suite.name == "sample")
        #expect(suite.evaluations.map(\.id) == ["bleu"])
        #expect(suite.evaluations[0].options.string("smooth") == "exp")
        #expect(suite.gates == [GateSpec(metric: "bleu.score", min: 10, max: nil, maxRegression: nil, higherIsBetter: true)])
        guard case let .parallel(hypotheses, _)? = suite.datasets["mt"] else { Issue.record("dataset kind"); return }
        #expect(hypotheses.path == sandbox.directory.appendingPathComponent("data/hyp.txt").standardizedFileURL.path)
    }

    @Test func environmentVariablesExpand() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "hypotheses: data/hyp.txt", with: "hypotheses: \"${MY_DATA}/hyp.txt\"")
            .replacingOccurrences(of: "name: sample", with: "name: ${SUITE_NAME:-fallback}")
        let suite = try sandbox.load(text, environment: ["MY_DATA": sandbox.directory.appendingPathComponent("data").path])
        #expect(suite.name == "fallback")
    }

    @Test func endpointKeyVariableIsANameAndOnlyForEndpoints() throws {
        let sandbox = try SuiteSandbox()
        func suite(_ model: String) -> String {
            validSuite.replacingOccurrences(of: "datasets:", with: "models:\n  m: \(model)\ndatasets:")
        }
        let loaded = try sandbox.load(suite("{ endpoint: http://127.0.0.1:1/v1, model: x, api_key_env: VLLM_API_KEY }"))
        #expect(loaded.models.first?.spec == .endpoint(URL(string: "http://127.0.0.1:1/v1")!, model: "x", apiKeyVariable: "VLLM_API_KEY"))
        // Unset at load is no error: a merge job or a suite that never calls the server needs no key.
        #expect(try ModelSpec.apiKey(variable: "VLLM_API_KEY", environment: ["VLLM_API_KEY": "k-1234"]) == "k-1234")
        #expect(throws: EvaluatorError.self) { try ModelSpec.apiKey(variable: "VLLM_API_KEY", environment: ["OPENAI_API_KEY": "other"]) }
        #expect(try ModelSpec.apiKey(variable: nil, environment: ["OPENAI_API_KEY": "other"]) == "other")
        let literal = try #require(try sandbox.diagnostics(suite("{ endpoint: http://127.0.0.1:1/v1, model: x, api_key_env: sk-abc123 }")).first)
        #expect(literal.message.contains("must name an environment variable") && literal.keyPath == "models.m.api_key_env")
        // A key that happens to be letters and digits is refused too (lower case): never echoed as a variable's name.
        let lower = try #require(try sandbox.diagnostics(suite("{ endpoint: http://127.0.0.1:1/v1, model: x, api_key_env: abc123XYZ }")).first)
        #expect(lower.message.contains("in capitals"))
        try sandbox.directory.appendingPathComponent("m.gguf").path.write(toFile: sandbox.directory.appendingPathComponent("m.gguf").path,
                                                                            atomically: true, encoding: .utf8)
        let onFile = try #require(try sandbox.diagnostics(suite("{ path: m.gguf, api_key_env: VLLM_API_KEY }")).first)
        #expect(onFile.message.contains("applies to an endpoint"))
    }

    @Test func unsetVariableIsNamed() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "hypotheses: data/hyp.txt", with: "hypotheses: \"${NOT_SET_ANYWHERE}/hyp.txt\"")
        let d = try #require(try sandbox.diagnostics(text).first)
        #expect(d.message.contains("'NOT_SET_ANYWHERE' is not set"))
        #expect(d.line == 4)
        #expect(d.keyPath == "datasets.mt.hypotheses")
    }

    @Test func unknownKeySuggestsTheRightOne() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "options:", with: "optons:")).first)
        #expect(d.keyPath == "evaluations[0].optons")
        #expect(d.message == "unknown key; did you mean 'options'?")
        #expect(d.line == 9 && d.column == 5)
        #expect(d.description.hasPrefix(sandbox.directory.appendingPathComponent("suite.yaml").path + ":9:5: evaluations[0].optons:"))
    }

    @Test func wrongTypeNamesExpectedAndFound() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "{ tokenize: 13a }", with: "{ lowercase: maybe }")).first)
        #expect(d.keyPath == "evaluations[0].options.lowercase")
        #expect(d.message == "expected true or false, found a string")
        #expect(d.line == 9 && d.column == 27)
    }

    @Test func missingFileIsReportedWithItsPath() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "data/ref.txt", with: "data/nope.txt")).first)
        #expect(d.keyPath == "datasets.mt.references[0]")
        #expect(d.message.hasPrefix("file not found: ") && d.message.hasSuffix("data/nope.txt"))
        #expect(d.hint?.contains("relative to the suite file") == true)
        #expect(d.line == 4)
    }

    /// A dataset, model or evaluation with an error of its own is reported once, where it is
    /// declared, not again as "unknown" wherever it is used.
    @Test func anEntryWithItsOwnErrorIsNotUnknownWhereUsed() throws {
        let sandbox = try SuiteSandbox()
        let missingData = try sandbox.diagnostics(validSuite.replacingOccurrences(of: "data/ref.txt", with: "data/nope.txt"))
        #expect(missingData.map(\.keyPath) == ["datasets.mt.references[0]"], "\(missingData.map(\.message))")
        let missingModel = validSuite
            .replacingOccurrences(of: "datasets:", with: "models:\n  candidate: { path: data/none.gguf }\ndatasets:")
            .replacingOccurrences(of: "evaluator: bleu", with: "evaluator: perplexity")
            .replacingOccurrences(of: "dataset: mt\n", with: "dataset: mt\n    model: candidate\n")
        let modelDiagnostics = try sandbox.diagnostics(missingModel)
        #expect(!modelDiagnostics.contains { $0.message.contains("unknown model") }, "\(modelDiagnostics.map(\.message))")
        #expect(modelDiagnostics.first?.keyPath == "models.candidate.path")
        let badEvaluation = try sandbox.diagnostics(validSuite.replacingOccurrences(of: "options: { tokenize: 13a }", with: "options: { tokenize: 14a }"))
        #expect(badEvaluation.map(\.keyPath) == ["evaluations[0].options.tokenize"], "\(badEvaluation.map(\.message))")
        // An empty reference list is an error of its own, so the suite cannot load without the evaluation.
        let noReferences = try sandbox.diagnostics(validSuite.replacingOccurrences(of: "references: [data/ref.txt]", with: "references: []"))
        #expect(noReferences.map(\.message) == ["no reference files"], "\(noReferences.map(\.message))")
    }

    @Test func pathThatIsADirectory() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "data/hyp.txt", with: "data/subdir")).first)
        #expect(d.keyPath == "datasets.mt.hypotheses")
        #expect(d.message.hasSuffix("is a directory, expected a file"))
    }

    /// A suite given as a pipe (`assay run <(envsubst < suite.yaml)`) is read to its end; it had
    /// been "You don't have permission" (found by probing, 2026-12-07).
    @Test func suiteFromAPipeIsRead() throws {
        let sandbox = try SuiteSandbox()
        let fifo = sandbox.directory.appendingPathComponent("suite.fifo")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let text = validSuite.replacingOccurrences(of: "data/", with: sandbox.directory.path + "/data/")
        let writer = Thread {
            if let handle = FileHandle(forWritingAtPath: fifo.path) {
                handle.write(Data(text.utf8))
                try? handle.close()
            }
        }
        writer.start()
        let suite = try SuiteLoader().load(fifo)
        #expect(suite.name == "sample" && suite.evaluations.count == 1)
    }

    /// A dataset or model at /dev/zero (found by probing, 2026-12-07): `validate` had said ok and
    /// `run` had hashed it forever, ignoring SIGTERM. Refused where written.
    @Test func pathThatIsADeviceIsRefused() throws {
        let sandbox = try SuiteSandbox()
        let dataset = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "data/hyp.txt", with: "/dev/zero")).first)
        #expect(dataset.keyPath == "datasets.mt.hypotheses" && dataset.message == "/dev/zero is a device, not a file", "\(dataset)")
        let model = validSuite
            .replacingOccurrences(of: "datasets:", with: "models:\n  candidate: { path: /dev/zero }\ndatasets:")
            .replacingOccurrences(of: "evaluator: bleu", with: "evaluator: perplexity")
            .replacingOccurrences(of: "dataset: mt\n", with: "dataset: mt\n    model: candidate\n")
        let modelDiagnostic = try #require(try sandbox.diagnostics(model).first)
        #expect(modelDiagnostic.keyPath == "models.candidate.path" && modelDiagnostic.message == "/dev/zero is a device, not a file",
                "\(modelDiagnostic)")
    }

    /// What `run` refuses, `validate` refuses (found by probing, 2026-12-07): a 300-character
    /// suite name had passed and then failed at --out ("file name is invalid"), and a model
    /// directory without config.json had passed and then failed its evaluation.
    @Test func whatRunWouldRefuseIsRefusedHere() throws {
        let sandbox = try SuiteSandbox()
        let longName = String(repeating: "n", count: 101)
        let name = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "name: sample", with: "name: \(longName)")).first)
        #expect(name.keyPath == "name" && name.message == "suite name is 101 characters long; at most 100", "\(name)")
        #expect(try sandbox.load(validSuite.replacingOccurrences(of: "name: sample", with: "name: \(longName.dropLast())")).name.count == 100)
        let id = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "id: bleu", with: "id: \(longName)")).first)
        #expect(id.keyPath == "evaluations[0].id" && id.message == "evaluation id is 101 characters long; at most 100", "\(id)")

        let model = validSuite
            .replacingOccurrences(of: "datasets:", with: "models:\n  candidate: { path: checkpoint }\ndatasets:")
            .replacingOccurrences(of: "evaluator: bleu", with: "evaluator: perplexity")
            .replacingOccurrences(of: "dataset: mt\n", with: "dataset: mt\n    model: candidate\n")
        let checkpoint = sandbox.directory.appendingPathComponent("checkpoint")
        try FileManager.default.createDirectory(at: checkpoint, withIntermediateDirectories: true)
        func modelDiagnostic() throws -> SuiteDiagnostic? { try sandbox.diagnostics(model).first { $0.keyPath == "models.candidate.path" } }
        #expect(try modelDiagnostic()?.message == "\(checkpoint.path) is a directory without config.json")
        try "{}".write(to: checkpoint.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        #expect(try modelDiagnostic()?.message == "\(checkpoint.path) is a directory without model.safetensors (or model.safetensors.index.json)")
        try "{}".write(to: checkpoint.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        #expect(try modelDiagnostic() == nil)
    }

    @Test func unknownEvaluatorSuggestsClosest() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "evaluator: bleu", with: "evaluator: blue")).first)
        #expect(d.keyPath == "evaluations[0].evaluator")
        #expect(d.message == "unknown evaluator 'blue'; did you mean 'bleu'?")
        #expect(d.line == 7 && d.column == 16)
        #expect(d.hint?.contains("chrf") == true)
    }

    @Test func duplicateEvaluationID() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "gates:", with: "  - { id: bleu, evaluator: chrf, dataset: mt }\ngates:")
        let d = try #require(try sandbox.diagnostics(text).first)
        #expect(d.message == "duplicate evaluation id 'bleu' (first used on line 6)")
        #expect(d.line == 10 && d.keyPath == "evaluations[1].id")
    }

    @Test func gateOnUnknownMetricSuggests() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "bleu.score", with: "bleu.scor")).first)
        #expect(d.message == "evaluator 'bleu' has no metric 'scor'; did you mean 'bleu.score'?")
        #expect(d.keyPath == "gates[0].metric" && d.line == 11)
    }

    /// A metric the evaluator has, but not with these options: chunked perplexity has no word
    /// perplexity (the run had only said "metric has no value").
    @Test func gateOnAMetricTheOptionsDoNotProduce() throws {
        let sandbox = try SuiteSandbox()
        try Data().write(to: sandbox.directory.appendingPathComponent("data/m.gguf"))
        let diagnostics = try sandbox.diagnostics("""
            version: 1
            name: ppl
            models: { m: { path: data/m.gguf } }
            datasets: { notes: { kind: text, path: data/hyp.txt } }
            evaluations:
              - { id: chunked, evaluator: perplexity, dataset: notes, model: m }
              - { id: rolling, evaluator: perplexity, dataset: notes, model: m, options: { mode: rolling } }
              - { id: speed, evaluator: throughput, model: m, options: { generate: 0 } }
            gates:
              - { metric: chunked.word_perplexity, max: 30 }
              - { metric: rolling.word_perplexity, max: 30 }
              - { metric: speed.ttft_ms, max: 100 }
              - { metric: speed.pp_tokens_per_second, min: 10 }
            """)
        #expect(diagnostics.map(\.keyPath) == ["gates[0].metric", "gates[2].metric"], "\(diagnostics.map(\.message))")
        #expect(diagnostics.last?.message == "gate on 'speed.ttft_ms': evaluation 'speed' gives it no value: generate: 0 runs no tg test; give generate a token count")
        #expect(diagnostics.first?.message.contains("evaluation 'chunked' gives it no value: 'word_perplexity' is measured in rolling mode only") == true)
        #expect(diagnostics.first?.hint == "or gate on one of its metrics: perplexity, mean_nll, tokens_scored")
    }

    @Test func gateOnUnknownEvaluation() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "bleu.score", with: "bleuu.score")).first)
        #expect(d.message == "gate on unknown evaluation 'bleuu'; did you mean 'bleu.score'?")
    }

    @Test func unknownModelName() throws {
        let sandbox = try SuiteSandbox()
        try Data("GGUF".utf8).write(to: sandbox.directory.appendingPathComponent("data/tiny.gguf"))
        let text = validSuite
            .replacingOccurrences(of: "datasets:", with: "models:\n  candidate: { path: data/tiny.gguf }\ndatasets:")
            .replacingOccurrences(of: "dataset: mt\n", with: "dataset: mt\n    model: candidat\n")
        let d = try #require(try sandbox.diagnostics(text).first)
        #expect(d.message == "unknown model 'candidat'; did you mean 'candidate'?")
        #expect(d.keyPath == "evaluations[0].model" && d.line == 11)
    }

    @Test func unquotedVariableInFlowMappingGetsAHint() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "hypotheses: data/hyp.txt", with: "hypotheses: ${DATA}/hyp.txt")
        let d = try #require(try sandbox.diagnostics(text).first)
        #expect(d.message.hasPrefix("YAML syntax error"))
        #expect(d.hint?.contains("quote") == true)
    }

    @Test func yamlSyntaxErrorHasPosition() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics("version: 1\nname: x\nevaluations:\n  - id: [unclosed\n").first)
        #expect(d.message.hasPrefix("YAML syntax error"))
        #expect(d.line == 5)
    }

    @Test func emptyFile() throws {
        let sandbox = try SuiteSandbox()
        for text in ["", "# only a comment\n", "   \n"] {
            let d = try #require(try sandbox.diagnostics(text).first)
            #expect(d.message == "the suite is empty")
            #expect(d.hint?.contains("version: 1") == true)
        }
    }

    @Test func wrongVersion() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "version: 1", with: "version: 2")).first)
        #expect(d.message == "unsupported suite version 2")
        #expect(d.line == 1 && d.column == 10)
    }

    @Test(arguments: [
        ("{ resamples: 0 }", "must be at least 1, found 0"),
        ("{ seed: -5 }", "must be at least 0, found -5"),
        ("{ smooth_value: -0.5 }", "must be greater than 0, found -0.5"),
        ("{ smooth_value: 0 }", "must be greater than 0, found 0"),
        // Absurd values: a resample count that had filled the memory, a number that had trapped
        // on its way to an integer, infinities and integers beyond 64 bits.
        ("{ resamples: 2000000000 }", "must be at most 100000, found 2000000000"),
        ("{ smooth_value: 1e19 }", "must be at most 1e+15, found 1e+19"),
        ("{ smooth_value: .inf }", "expected a finite number, found .inf"),
        ("{ seed: 99999999999999999999 }", "99999999999999999999 is too large for an integer (at most 9223372036854775807)"),
        ("{ smooth: add-k, smooth_value: 2000000 }", "invalid smoothing value '2000000.0': must be greater than 0 and at most 1,000,000"),
    ])
    func nonPositiveNumericOptions(_ options: String, _ message: String) throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "{ tokenize: 13a }", with: options)).first)
        #expect(d.message == message)
        #expect(d.line == 9)
    }

    @Test func choiceOptionSuggests() throws {
        let sandbox = try SuiteSandbox()
        let d = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "tokenize: 13a", with: "tokenize: 13b")).first)
        #expect(d.message.hasSuffix("did you mean '13a'?"))
    }

    @Test func datasetKindMismatchAndMissingDataset() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "mt: { kind: parallel, hypotheses: data/hyp.txt, references: [data/ref.txt] }",
                                                   with: "mt: { kind: text, path: data/hyp.txt }")
        let d = try #require(try sandbox.diagnostics(text).first)
        #expect(d.message == "evaluator 'bleu' cannot use dataset 'mt' of kind 'text'")
        let missing = try #require(try sandbox.diagnostics(validSuite.replacingOccurrences(of: "    dataset: mt\n", with: "")).first)
        #expect(missing.message == "evaluator 'bleu' needs a dataset")
    }

    @Test func severalProblemsAreAllReported() throws {
        let sandbox = try SuiteSandbox()
        let text = validSuite.replacingOccurrences(of: "version: 1", with: "version: 3")
            .replacingOccurrences(of: "evaluator: bleu", with: "evaluator: bleuu")
        let diagnostics = try sandbox.diagnostics(text)
        #expect(diagnostics.count >= 2)
        #expect(diagnostics.map(\.line) == diagnostics.map(\.line).sorted { ($0 ?? 0) < ($1 ?? 0) })
    }

    @Test func missingSuiteFileAndDirectory() throws {
        let sandbox = try SuiteSandbox()
        #expect(throws: SuiteError.self) { try SuiteLoader().load(sandbox.directory.appendingPathComponent("absent.yaml")) }
        do {
            _ = try SuiteLoader().load(sandbox.directory)
            Issue.record("a directory loaded as a suite")
        } catch let error as SuiteError {
            #expect(error.diagnostics.first?.message == "is a directory, not a suite file")
        }
    }
}

struct RatingsSuiteTests {
    static let ratingsSuite = """
        version: 1
        name: r
        datasets:
          mt: { kind: parallel, hypotheses: data/hyp.txt, references: [data/ref.txt] }
          people: { kind: ratings, path: data/r.csv, scale: [1, 2, 3] }
        evaluations:
          - { id: bleu, evaluator: bleu, dataset: mt }
          - { id: humans, evaluator: agreement, dataset: people, options: { metric: bleu.sentence_bleu } }
        """

    func sandbox() throws -> SuiteSandbox {
        let sandbox = try SuiteSandbox()
        try "item,rater,label\n1,a,1\n1,b,2\n2,a,3\n2,b,3\n".write(to: sandbox.directory.appendingPathComponent("data/r.csv"), atomically: true, encoding: .utf8)
        return sandbox
    }

    @Test func ratingsDatasetAndDependencyLoad() throws {
        let suite = try sandbox().load(Self.ratingsSuite)
        guard case let .ratings(_, format, _, scale)? = suite.datasets["people"] else { Issue.record("kind"); return }
        #expect(format == .csv && scale == .categories(["1", "2", "3"]))
        // `agreement` is the former id of `human-agreement`: accepted, with a warning at its line.
        #expect(suite.evaluations[1].evaluator.id == "human-agreement")
        #expect(suite.warnings.count == 1 && suite.warnings[0].keyPath == "evaluations[1].evaluator" && suite.warnings[0].line == 8,
                "\(suite.warnings)")
    }

    @Test func readingALaterOrUnknownEvaluationIsAnError() throws {
        let sandbox = try sandbox()
        let swapped = Self.ratingsSuite.replacingOccurrences(of: "metric: bleu.sentence_bleu", with: "metric: blue.sentence_bleu")
        let d = try #require(try sandbox.diagnostics(swapped).first)
        #expect(d.message == "reads evaluation 'blue', which is not an earlier evaluation of this suite; did you mean 'bleu'?")
        let missing = try #require(try sandbox.diagnostics(Self.ratingsSuite.replacingOccurrences(of: ", options: { metric: bleu.sentence_bleu }", with: "")).first)
        #expect(missing.message.contains("option 'metric': required"))
        // An earlier evaluation dropped for its own error is reported once, not again where it is read.
        let broken = try sandbox.diagnostics(Self.ratingsSuite.replacingOccurrences(of: "{ id: bleu, evaluator: bleu, dataset: mt }",
                                                                                    with: "{ id: bleu, evaluator: bleu, dataset: mt, options: { tokenize: 14a } }"))
        #expect(broken.map(\.keyPath) == ["evaluations[0].options.tokenize"], "\(broken.map(\.message))")
    }

    @Test func ratingsDatasetNeedsOneScale() throws {
        let sandbox = try sandbox()
        let d = try #require(try sandbox.diagnostics(Self.ratingsSuite.replacingOccurrences(of: ", scale: [1, 2, 3]", with: "")).first)
        #expect(d.message == "a ratings dataset needs a declared scale")
        let bad = try #require(try sandbox.diagnostics(Self.ratingsSuite.replacingOccurrences(of: "scale: [1, 2, 3]", with: "bins: [5, 1]")).first)
        #expect(bad.message.contains("increase"))
    }
}
