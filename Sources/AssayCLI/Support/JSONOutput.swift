import AssayCore
import AssayMetrics
import AssayProcedures
import AssayStats
import Foundation

/// JSON printing for the commands' `--format json`: sorted keys, one document per run.
enum JSONOutput {
    /// Prints `value`; `pretty` indents it (the store and report views), otherwise one line (the
    /// metric commands, as sacrebleu's and llama.cpp's tools print theirs).
    static func print<T: Encodable>(_ value: T, pretty: Bool = true) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        Terminal.standardOutput(Data((Redaction.scrub(String(decoding: data, as: UTF8.self)) + "\n").utf8))
    }
}

/// A corpus score as `--format json` prints it: name, score, signature, the metric's own fields
/// (BLEU's counts and lengths) and, with `--confidence`, sacrebleu's interval fields.
struct ScoreOutput: Encodable {
    var name: String
    var score: Double
    var signature: String
    var bleu: BLEUScore?
    var interval: Bootstrap.Interval?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(name, "name")
        try c.encode(score, "score")
        try c.encode(signature, "signature")
        if let bleu {
            try c.encode(bleu.counts, "counts")
            try c.encode(bleu.totals, "totals")
            try c.encode(bleu.precisions, "precisions")
            try c.encode(bleu.brevityPenalty, "bp")
            try c.encode(bleu.systemLength, "sys_len")
            try c.encode(bleu.referenceLength, "ref_len")
        }
        if let interval {
            try c.encode(interval.mean, "confidence_mean")
            try c.encode(interval.halfWidth, "confidence_var")
            try c.encode(interval.low, "ci_low")
            try c.encode(interval.high, "ci_high")
        }
    }
}

/// `--paired-bs` as `--format json` prints it.
struct PairedScoreOutput: Encodable {
    struct Side: Encodable {
        var file: String
        var score, mean, ci, ciLow, ciHigh: Double
        var pValue: Double?

        enum CodingKeys: String, CodingKey {
            case file, score, mean, ci, ciLow = "ci_low", ciHigh = "ci_high", pValue = "p_value"
        }
    }

    var name: String
    var signature: String
    var test = "paired-bs"
    var baseline: Side
    var system: Side
}

/// A command's JSON object with the process's peak resident memory added (`peak_rss_bytes`, as
/// the speed commands report it).
struct WithPeakRSS<Value: Encodable>: Encodable {
    var value: Value

    init(_ value: Value) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(ProcessStats.peakResidentBytes, "peak_rss_bytes")
    }
}
