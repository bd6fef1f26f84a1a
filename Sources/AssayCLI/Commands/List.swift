import ArgumentParser
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
                    [
                        "id": type.id, "summary": type.summary,
                        "datasets": type.datasetKinds.map(\.rawValue),
                        "options": type.options.map { ["name": $0.name, "type": $0.kind.description, "default": $0.defaultValue?.description as Any, "summary": $0.summary] },
                        "metrics": type.metrics.map { ["name": $0.name, "higher_is_better": $0.higherIsBetter, "unit": $0.unit as Any, "summary": $0.summary] },
                    ] as [String: Any]
                }])
                return
            }
            for type in types {
                print("\(type.id) — \(type.summary)")
                if !type.datasetKinds.isEmpty { print("  datasets: \(type.datasetKinds.map(\.rawValue).joined(separator: ", "))") }
                // One column wide enough for the longest name of this evaluator: names are never cut.
                let width = (type.options.map(\.name.count) + type.metrics.map(\.name.count)).max() ?? 0
                func column(_ name: String) -> String { name + String(repeating: " ", count: max(0, width - name.count)) }
                print("  options:")
                for option in type.options {
                    let value = option.defaultValue.map { "default \($0)" } ?? "unset"
                    print("    \(column(option.name)) \(option.kind.description) (\(value)) — \(option.summary)")
                }
                print("  metrics:")
                for metric in type.metrics {
                    let direction = metric.higherIsBetter ? "higher is better" : "lower is better"
                    print("    \(column(metric.name)) \(direction)\(metric.unit.map { ", \($0)" } ?? "") — \(metric.summary)")
                }
                print("")
            }
        }
    }
}
