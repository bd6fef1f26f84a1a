import AssayCore
import AssayTensor
import ArgumentParser
import Foundation

/// The `assay` command: evaluate and benchmark language-model checkpoints.
public struct AssayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "assay",
        abstract: "Evaluate and benchmark language-model checkpoints; gate releases on the numbers.",
        discussion: """
            Start with `assay run suites/quickstart.yaml`. Suites are YAML files that list models, \
            datasets, evaluations and gates (docs/suite-format.md). Every number carries a signature \
            naming the settings that produced it.

            Exit codes: 0 all gates passed · 1 a gate failed · 2 could not evaluate (bad input, \
            missing file, evaluator error) · 64 usage error · 130 interrupted.
            """,
        version: "0.1.0",
        subcommands: [
            Run.self, Validate.self, List.self, BLEUCommand.self, ChrFCommand.self,
            Merge.self, History.self, Show.self, Compare.self, Report.self, Ratings.self, Agreement.self, Inspect.self, Tokenize.self, Perplexity.self, Generate.self, Bench.self, BenchServe.self,
            BERTScoreCommand.self, BERTScoreBaselineCommand.self, Quantize.self, Drift.self,
        ])

    public init() {}

    /// Parses `arguments`, runs the command and exits with Assay's exit codes: errors that
    /// carry a location and hint print as `error:` / `hint:` and exit 2; usage errors exit 64.
    public static func main(_ arguments: [String]?) async {
        Redaction.registerKeys(from: ProcessInfo.processInfo.environment)
        Allocation.keepActivationBuffers()
        // OpenBLAS's threads and the kernels' pool start from the same count: the CPUs this
        // process may use (OpenBLAS alone would ignore a cgroup CPU limit), unless the
        // environment sets OpenBLAS's; `--threads` sets both.
        let environment = ProcessInfo.processInfo.environment
        if ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"].allSatisfy({ environment[$0] == nil }) { BLAS.threads = Threads.available }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Terminal.finishOutput()
        } catch let exit as ExitCode {
            Terminal.finishOutput()
            Foundation.exit(exit.rawValue)
        } catch let error as CommandError {
            Terminal.printError(error)
            Foundation.exit(error.code)
        } catch let error as LocalizedError where !isArgumentParserError(error) {
            Terminal.printError(error)
            Foundation.exit(2)
        } catch where !isArgumentParserError(error) {
            // Anything else (a Foundation file error the command did not foresee) could not
            // evaluate: exit 2, never 1, which means a failed gate.
            Terminal.error("error: \(error.localizedDescription)\n")
            Foundation.exit(2)
        } catch {
            exit(withError: error)
        }
    }

    static func isArgumentParserError(_ error: any Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }
}
