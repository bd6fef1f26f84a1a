import Foundation
import ArgumentParser
import AssayModels
import AssayProcedures

extension LlamaModel.Numerics: ExpressibleByArgument {}
extension LlamaModel.CacheType: ExpressibleByArgument {}

/// `--cache-type`'s help, the same on every command that runs the engine with `--numerics`.
let cacheTypeHelp = ArgumentHelp(
    "How the KV cache stores keys and values: f32, or f16 (half the memory, llama.cpp's default; exact numbers move by f16 rounding). Default: f16 with --numerics ggml (the same numbers), else f32.",
    valueName: "type")

/// A comma-separated list of integers (`-p 128,512`); each at least `minimum` where it is checked.
struct IntegerList: ExpressibleByArgument, Sendable {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        values = parts.compactMap { $0 }
    }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }

    /// The values, or a usage error naming `option` when one is below `minimum`.
    func checked(_ option: String, minimum: Int) throws -> [Int] {
        guard values.allSatisfy({ $0 >= minimum }) else {
            throw ValidationError("\(option) must be a comma-separated list of integers ≥ \(minimum), e.g. 128,512")
        }
        return values
    }
}

/// A comma-separated list of numbers, `inf` allowed (`--request-rate 1,4,inf`).
struct NumberList: ExpressibleByArgument, Sendable {
    var values: [Double]

    init(_ values: [Double]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0 == "inf" ? Double.infinity : Double($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0.map { !$0.isNaN } ?? false }) else { return nil }
        values = parts.compactMap { $0 }
    }

    var defaultValueDescription: String { values.map { $0.isInfinite ? "inf" : String(format: "%g", $0) }.joined(separator: ",") }
}

/// How `--mode rolling` cuts a text into documents.
enum SplitKind: String, ExpressibleByArgument, CaseIterable {
    case file, paragraphs, lines, jsonl

    /// The split, with `field` for JSON Lines.
    func split(field: String) -> DocumentSplit {
        switch self {
        case .file: .file
        case .paragraphs: .paragraphs
        case .lines: .lines
        case .jsonl: .jsonl(field: field)
        }
    }
}
