import ArgumentParser
import AssaySuite
import Foundation

extension AssayCommand {
    /// `assay validate`: check suites without running them.
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check suite files without running them (exit 2 when any is invalid).",
            discussion: "Every problem is reported as file:line:column: key.path: message, with a hint.")

        @Argument(help: ArgumentHelp("Suite files.", valueName: "suite"))
        var suites: [String]

        func run() async throws {
            var invalid = 0
            for path in suites {
                do {
                    let suite = try SuiteLoader().load(URL(fileURLWithPath: path))
                    for warning in suite.warnings { Terminal.warning("\(warning)") }
                    Terminal.output("ok: \(path) (suite '\(suite.name)', \(suite.evaluations.count) evaluation(s), \(suite.gates.count) gate(s))")
                } catch let error as SuiteError {
                    invalid += 1
                    for diagnostic in error.diagnostics { Terminal.error("error: \(diagnostic)\n") }
                }
            }
            if invalid > 0 { throw ExitCode(2) }
        }
    }
}
