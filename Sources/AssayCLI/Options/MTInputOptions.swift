import ArgumentParser
import AssayEvaluators
import AssayMetrics
import AssayStats
import Foundation

/// Inputs of `assay bleu` and `assay chrf`: a hypothesis file and reference files, or a JSONL
/// dataset with field names.
struct MTInputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Hypotheses: a text file (one segment per line, UTF-8) or a .jsonl dataset.", valueName: "hypotheses"))
    var hypotheses: String

    @Option(name: [.customLong("ref"), .short], help: ArgumentHelp(
        "Reference file, one segment per line; repeat for several references (an empty line is an empty reference).",
        valueName: "file"))
    var references: [String] = []

    @Option(name: .customLong("hyp-field"), help: ArgumentHelp("JSONL: field holding the hypothesis.", valueName: "name"))
    var hypothesisField: String = "hypothesis"

    @Option(name: .customLong("ref-field"), help: ArgumentHelp(
        "JSONL: field holding a reference (a string, or a list of strings whose length may vary per line); repeatable.",
        valueName: "name"))
    var referenceFields: [String] = []

    @Option(name: .customLong("id-field"), help: ArgumentHelp("JSONL: field(s) holding the item id, joined with '#' (default: line number).", valueName: "name[,name…]"))
    var idField: String?

    var isJSONL: Bool { hypotheses.hasSuffix(".jsonl") || !referenceFields.isEmpty }

    func validate() throws {
        if isJSONL {
            guard references.isEmpty else {
                throw ValidationError("--ref is for text files; with a JSONL dataset name reference fields with --ref-field")
            }
        } else if references.isEmpty {
            throw ValidationError("missing --ref FILE (repeat --ref for several references)")
        }
    }

    /// Loads the corpus.
    func load() throws -> ParallelCorpus {
        try load(hypothesesPath: hypotheses)
    }

    /// Loads the corpus with another hypotheses file (for --paired-bs).
    func load(hypothesesPath: String) throws -> ParallelCorpus {
        let corpus: ParallelCorpus
        if isJSONL {
            let fields = JSONLFields(hypothesis: hypothesisField, references: referenceFields.isEmpty ? ["reference"] : referenceFields, id: idField.map { $0.split(separator: ",").map(String.init) })
            corpus = try ParallelCorpus.fromJSONL(URL(fileURLWithPath: hypothesesPath), fields: fields)
        } else {
            corpus = try ParallelCorpus.fromTextFiles(hypotheses: URL(fileURLWithPath: hypothesesPath),
                                                      references: references.map { URL(fileURLWithPath: $0) })
        }
        guard !corpus.hypotheses.isEmpty else { throw MetricsError.emptyInput(what: "segments in \(hypothesesPath)") }
        return corpus
    }
}

/// Statistical options shared by `assay bleu` and `assay chrf`.
struct SignificanceOptions: ParsableArguments {
    @Flag(name: .long, help: "Score each segment (one line or JSON object per segment).")
    var sentence = false

    @Flag(name: .long, help: "Add a bootstrap 95 % confidence interval (resamples and seed below).")
    var confidence = false

    @Option(name: .customLong("paired-bs"), help: ArgumentHelp(
        "Paired bootstrap test of the hypotheses against this baseline hypotheses file (same references).",
        valueName: "baseline"))
    var pairedBaseline: String?

    @Option(name: .long, parsing: .unconditional, help: "Bootstrap resamples.")
    var resamples: Int = 1000

    @Option(name: .long, parsing: .unconditional, help: "Bootstrap seed.")
    var seed: UInt64 = 12345

    @Option(name: .long, help: "Output: text (sacrebleu style) or json.")
    var format: OutputFormat = .text

    func validate() throws {
        guard (1...Bootstrap.maximumResamples).contains(resamples) else {
            throw ValidationError("--resamples must be 1 to \(Bootstrap.maximumResamples) (sacrebleu's default is 1000)")
        }
        if sentence, confidence || pairedBaseline != nil {
            throw ValidationError("--sentence cannot be combined with --confidence or --paired-bs (as in sacrebleu)")
        }
        if format == .md { throw ValidationError("--format takes text or json here") }
    }
}
