import ArgumentParser
import AssayCore
import AssayEvaluators
import Foundation

extension AssayCommand {
    /// `assay list`: evaluators, their options and metrics.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List evaluators with their options (and defaults) and metrics (and direction).")

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func run() async throws {
            let types = EvaluatorRegistry.ids.compactMap { EvaluatorRegistry.all[$0] }
            if format == .json {
                try JSONOutput.print(["evaluators": types.map { type in
                    Listed(id: type.id, summary: type.summary, datasets: type.datasetKinds.map(\.rawValue),
                           options: type.options.map { .init(name: $0.name, type: $0.kind.description, default: $0.defaultValue?.description,
                                                             summary: $0.summary) },
                           metrics: type.metrics.map { .init(name: $0.name, higherIsBetter: $0.higherIsBetter, unit: $0.unit, summary: $0.summary) })
                }], pretty: false)
                return
            }
            for type in types {
                Terminal.output("\(type.id) — \(type.summary)")
                if !type.datasetKinds.isEmpty { Terminal.output("  datasets: \(type.datasetKinds.map(\.rawValue).joined(separator: ", "))") }
                // One column wide enough for the longest name of this evaluator: names are never cut.
                let width = (type.options.map(\.name.count) + type.metrics.map(\.name.count)).max() ?? 0
                func column(_ name: String) -> String { name + String(repeating: " ", count: max(0, width - name.count)) }
                Terminal.output("  options:")
                for option in type.options {
                    let value = option.defaultValue.map { "default \($0)" } ?? "unset"
                    Terminal.output("    \(column(option.name)) \(option.kind.description) (\(value)) — \(option.summary)")
                }
                Terminal.output("  metrics:")
                for metric in type.metrics {
                    let direction = metric.higherIsBetter ? "higher is better" : "lower is better"
                    Terminal.output("    \(column(metric.name)) \(direction)\(metric.unit.map { ", \($0)" } ?? "") — \(metric.summary)")
                }
                Terminal.output("")
            }
        }

        /// One evaluator in `--format json` (an option without a default and a unitless metric
        /// say `null`).
        struct Listed: Encodable {
            struct Option: Encodable {
                var name, type: String
                var `default`: String?
                var summary: String

                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: JSONKey.self)
                    try c.encode(name, "name")
                    try c.encode(type, "type")
                    try c.encode(`default`, "default")
                    try c.encode(summary, "summary")
                }
            }

            struct Metric: Encodable {
                var name: String
                var higherIsBetter: Bool
                var unit: String?
                var summary: String

                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: JSONKey.self)
                    try c.encode(name, "name")
                    try c.encode(higherIsBetter, "higher_is_better")
                    try c.encode(unit, "unit")
                    try c.encode(summary, "summary")
                }
            }

            var id, summary: String
            var datasets: [String]
            var options: [Option]
            var metrics: [Metric]
        }
    }
}
