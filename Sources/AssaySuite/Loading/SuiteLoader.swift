import AssayCore
import AssayEvaluators
import AssayMetrics
import Foundation
import Yams

/// Loads and validates suite files (DESIGN §4): strict keys, types, files, evaluator ids,
/// options, model and dataset references and gates, reporting every problem with file, line,
/// column, key path and a hint.
public struct SuiteLoader: Sendable {
    /// Environment for `${VAR}` expansion.
    public var environment: [String: String]

    /// Values used for `ASSAY_MODELS` and `ASSAY_DATA` when the environment does not set them.
    public static func defaultEnvironment(_ environment: [String: String]) -> [String: String] {
        var env = environment
        if env["ASSAY_MODELS"] == nil {
            let home = env["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
            env["ASSAY_MODELS"] = "\(home)/.cache/assay/models"
        }
        if env["ASSAY_DATA"] == nil {
            env["ASSAY_DATA"] = URL(fileURLWithPath: "../shared/data").standardizedFileURL.path
        }
        return env
    }

    /// Creates a loader expanding `${VAR}` from `environment` (plus the defaults above).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = Self.defaultEnvironment(environment)
    }

    /// Loads the suite at `url`.
    /// - Throws: ``SuiteError`` listing every problem found.
    public func load(_ url: URL) throws -> Suite {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SuiteError([SuiteDiagnostic(file: path, line: nil, column: nil, keyPath: "", message: "suite file not found",
                                              hint: "check the path; suites usually live in suites/")])
        }
        guard !isDirectory.boolValue else {
            throw SuiteError([SuiteDiagnostic(file: path, line: nil, column: nil, keyPath: "", message: "is a directory, not a suite file",
                                              hint: "pass a .yaml file, e.g. \(path)/quickstart.yaml")])
        }
        let data: Data
        // A pipe (`assay run <(envsubst < suite.yaml)`) is read to its end; it had been "You don't have permission".
        do { data = try FileKind.contents(of: url) } catch let error as FileKind.ReadError {
            throw SuiteError([SuiteDiagnostic(file: path, line: nil, column: nil, keyPath: "", message: "cannot read: \(error.reason)")])
        }
        let text: String
        switch UTF8Text.decode(data) {
        case let .success(decoded): text = decoded
        case let .failure(invalid):
            throw SuiteError([SuiteDiagnostic(file: path, line: invalid.line, column: invalid.column, keyPath: "", message: invalid.description,
                                              hint: "save the suite as UTF-8")])
        }
        return try load(text: text, file: url, contentHash: SHA256.hex(data))
    }

    /// Loads a suite from `text` as if it were the file `file` (relative paths resolve against
    /// its directory).
    public func load(text: String, file: URL, contentHash: String? = nil) throws -> Suite {
        let diagnostics = Diagnostics(file: file.path)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var diagnostic = Self.diagnostic(for: error, file: file.path)
            if let line = diagnostic.line, text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(line - 1).first?.contains("${") == true {
                diagnostic.hint = "inside { } mappings, quote values that contain ${VAR}: path: \"${VAR}/file\""
            }
            throw SuiteError([diagnostic])
        }
        guard let root, Resolver.default.resolveTag(of: root) != .null else {
            throw SuiteError([SuiteDiagnostic(file: file.path, line: 1, column: 1, keyPath: "", message: "the suite is empty",
                                              hint: "start with `version: 1`, `name: my-suite` and an `evaluations:` list (see suites/quickstart.yaml)")])
        }
        var builder = SuiteBuilder(file: file, environment: environment, diagnostics: diagnostics)
        let suite = builder.build(YAMLCursor(node: root, path: "", diagnostics: diagnostics),
                                  contentHash: contentHash ?? SHA256.hex(Data(text.utf8)))
        guard diagnostics.isEmpty, let suite else {
            throw SuiteError(diagnostics.items.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) })
        }
        return suite
    }

    static func diagnostic(for error: YamlError, file: String) -> SuiteDiagnostic {
        let hint = "check indentation, colons and quoting near this position"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let message = "YAML syntax error: \(problem)" + (context.map { " (\($0.text))" } ?? "")
            return SuiteDiagnostic(file: file, line: mark.line, column: mark.column, keyPath: "", message: message, hint: hint)
        case let .duplicatedKeysInMapping(duplicates, context):
            return SuiteDiagnostic(file: file, line: context.mark.line, column: context.mark.column, keyPath: "",
                                   message: "duplicate key(s) \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                                   hint: "each key may appear once per mapping")
        case let .reader(problem, _, _, _):
            return SuiteDiagnostic(file: file, line: nil, column: nil, keyPath: "", message: "YAML error: \(problem)", hint: hint)
        default:
            return SuiteDiagnostic(file: file, line: nil, column: nil, keyPath: "", message: "YAML error: \(error)", hint: hint)
        }
    }
}

extension SuiteLoader {
    /// Why `url` cannot be a model file, if it cannot: it is missing, a device (/dev/zero had been
    /// hashed forever), or a directory the checkpoint loader cannot open (`run` had failed there
    /// — config.json "doesn't exist" — after `validate` said ok). Suites and `run --model` share it.
    public static func modelPathProblem(_ url: URL) -> Diagnostic? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            return Diagnostic("model not found: \(url.path)",
                              hint: "fetch the models with scripts/fetch-models.sh, or fix the path (relative to the suite file)")
        }
        if FileKind(path: url.path) == .device { return Diagnostic("\(url.path) is a device, not a file", hint: SuiteBuilder.deviceHint) }
        guard isDirectory.boolValue else { return nil }
        let has = { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
        let missing = !has("config.json") ? "config.json"
            : !has("model.safetensors") && !has("model.safetensors.index.json") ? "model.safetensors (or model.safetensors.index.json)" : nil
        return missing.map {
            Diagnostic("\(url.path) is a directory without \($0)",
                       hint: "a Hugging Face checkpoint directory holds config.json and model.safetensors (or model.safetensors.index.json and its shards); for GGUF, name the .gguf file")
        }
    }
}
