import AssayCore
import AssayEvaluators
import AssayMetrics
import Foundation
import Yams

extension SuiteBuilder {
    static let evaluationKeys = ["id", "evaluator", "dataset", "model", "reference", "options"]
    static let gateKeys = ["metric", "min", "max", "max_regression", "judge"]

    /// The evaluations; a reference to a dataset or model in `broken` fails without a second error.
    func evaluations(_ cursor: YAMLCursor, suite: Suite, broken: BrokenEntries) -> [EvaluationSpec] {
        guard let list = cursor.list() else { return [] }
        if list.isEmpty { cursor.error("no evaluations", hint: "add at least one entry with `id:` and `evaluator:`") }
        var result: [EvaluationSpec] = []
        var seen: [String: Int] = [:]
        for item in list {
            guard let fields = item.mapping(allowed: Self.evaluationKeys, what: "an evaluation"),
                  item.requireKeys(["id", "evaluator"], in: fields, example: "- { id: bleu, evaluator: bleu, dataset: mt }") else { continue }
            func field(_ key: String) -> YAMLCursor? { fields.first { $0.key == key }?.value }
            let idCursor = field("id")!
            guard let id = idCursor.string() else { continue }
            if id.range(of: "^[A-Za-z0-9_-]+$", options: .regularExpression) == nil {
                idCursor.error("invalid evaluation id '\(id)'", hint: "use letters, digits, '_' and '-' (gates write <id>.<metric>)")
                continue
            }
            if id.count > Self.longestName {
                idCursor.error("evaluation id is \(id.count) characters long; at most \(Self.longestName)",
                               hint: "shorten it: it names the evaluation's report files, and a file name has at most 255 bytes")
                continue
            }
            if let firstLine = seen[id] {
                idCursor.error("duplicate evaluation id '\(id)' (first used on line \(firstLine))", hint: "give each evaluation a unique id")
                continue
            }
            seen[id] = idCursor.line ?? 0
            let evaluatorCursor = field("evaluator")!
            guard let evaluatorID = evaluatorCursor.string() else { continue }
            let type: any Evaluator.Type
            do {
                type = try EvaluatorRegistry.type(for: evaluatorID)
                if let current = EvaluatorRegistry.aliases[evaluatorID] {
                    diagnostics.warn(evaluatorCursor.warning("evaluator '\(evaluatorID)' is now called '\(current)'",
                                                             hint: "write `evaluator: \(current)`; the old name will stop working in a later version"))
                }
            } catch let error as EvaluatorError {
                let suggestion: String? = if case let .unknownEvaluator(_, s, _) = error { s } else { nil }
                evaluatorCursor.error("unknown evaluator '\(evaluatorID)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                                      hint: "available: \(EvaluatorRegistry.ids.joined(separator: ", ")) (see `assay list`)")
                continue
            } catch { continue }
            var spec = EvaluationSpec(id: id, evaluator: type, options: OptionValues(), givenOptions: [:],
                                      dataset: nil, model: nil, reference: nil)
            var ok = true
            // Dataset
            if let datasetCursor = field("dataset") {
                if type.datasetKinds.isEmpty {
                    datasetCursor.error("evaluator '\(evaluatorID)' takes no dataset", hint: "remove `dataset:`")
                    ok = false
                } else if let name = datasetCursor.string() {
                    if let dataset = suite.datasets[name] {
                        if !type.datasetKinds.contains(dataset.kind) {
                            datasetCursor.error("evaluator '\(evaluatorID)' cannot use dataset '\(name)' of kind '\(dataset.kind.rawValue)'",
                                                hint: "it accepts: \(type.datasetKinds.map(\.rawValue).joined(separator: ", "))")
                            ok = false
                        }
                        spec.dataset = name
                    } else if broken.datasets.contains(name) {
                        ok = false
                    } else {
                        let names = suite.datasets.keys.sorted()
                        let suggestion = Suggestions.closest(to: name, in: names)
                        datasetCursor.error("unknown dataset '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                                            hint: names.isEmpty ? "declare it under `datasets:`" : "datasets: \(names.joined(separator: ", "))")
                        ok = false
                    }
                }
            } else if !type.datasetKinds.isEmpty {
                item.error("evaluator '\(evaluatorID)' needs a dataset",
                           hint: "add `dataset: <name>` naming an entry of `datasets:` of kind \(type.datasetKinds.map(\.rawValue).joined(separator: " or "))")
                ok = false
            }
            // Models
            for (role, key) in [(ModelRoles.model, "model"), (ModelRoles.reference, "reference")] {
                if let modelCursor = field(key) {
                    guard let name = modelCursor.string() else { ok = false; continue }
                    if suite.model(name) == nil && broken.models.contains(name) {
                        ok = false
                    } else if suite.model(name) == nil {
                        let names = suite.models.map(\.name)
                        let suggestion = Suggestions.closest(to: name, in: names)
                        modelCursor.error("unknown model '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                                          hint: names.isEmpty ? "declare it under `models:`" : "models: \(names.joined(separator: ", "))")
                        ok = false
                    } else if !type.modelRoles.contains(role) {
                        modelCursor.error("evaluator '\(evaluatorID)' takes no \(key)", hint: "remove `\(key):`")
                        ok = false
                    }
                    if key == "model" { spec.model = name } else { spec.reference = name }
                } else if type.modelRoles.contains(role) {
                    item.error("evaluator '\(evaluatorID)' needs `\(key):`", hint: "name an entry of `models:`")
                    ok = false
                }
            }
            // Options
            var given: [String: OptionValue] = [:]
            if let optionsCursor = field("options") {
                let names = type.options.map(\.name)
                if let entries = optionsCursor.mapping(allowed: names.isEmpty ? ["(none)"] : names, what: "options") {
                    for (key, value) in entries {
                        guard let option = type.options.first(where: { $0.name == key }) else { continue }
                        if let parsed = optionValue(value, option) { given[key] = parsed } else { ok = false }
                    }
                } else {
                    ok = false
                }
            }
            spec.givenOptions = given
            spec.options = OptionValues(specs: type.options, given: given)
            // An earlier evaluation dropped for its own error is not reported again as missing.
            for dependency in type.dependencies(spec.options) where !result.contains(where: { $0.id == dependency }) {
                if dependency != id, seen[dependency] != nil { ok = false; continue }  // declared earlier, dropped with its error
                let earlier = result.map(\.id)
                let suggestion = Suggestions.closest(to: dependency, in: earlier)
                (field("options") ?? item).error(
                    "reads evaluation '\(dependency)', which is not an earlier evaluation of this suite"
                        + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                    hint: earlier.isEmpty ? "list the evaluation it reads before it" : "earlier evaluations: \(earlier.joined(separator: ", "))")
                ok = false
            }
            do {
                _ = try type.init(options: spec.options)
            } catch {
                (field("options") ?? item).error(error.localizedDescription, hint: (error as? LocalizedError)?.recoverySuggestion)
                ok = false
            }
            // A local file where the evaluator needs a served model, or the reverse.
            for (role, key, name) in [(ModelRoles.model, "model", spec.model), (ModelRoles.reference, "reference", spec.reference)] {
                guard let name, let model = suite.model(name), let reason = type.refusedModel(model, role: role, options: spec.options) else { continue }
                (field(key) ?? item).error("model '\(name)': \(reason)",
                                           hint: "`path:` under `models:` names a local file, `endpoint:` and `model:` a served one")
                ok = false
            }
            if ok { result.append(spec) }
        }
        return result
    }

    func optionValue(_ cursor: YAMLCursor, _ option: OptionSpec) -> OptionValue? {
        switch option.kind {
        case .bool:
            return cursor.bool().map(OptionValue.bool)
        case let .integer(minimum, maximum):
            guard let value = cursor.int() else { return nil }
            guard value >= minimum else {
                cursor.error("must be at least \(minimum), found \(value)", hint: "\(option.name): \(option.summary)")
                return nil
            }
            guard value <= maximum else {
                cursor.error("must be at most \(maximum), found \(value)", hint: "\(option.name): \(option.summary)")
                return nil
            }
            return .integer(value)
        case let .number(exclusiveMinimum, maximum):
            guard let value = cursor.double() else { return nil }
            if let exclusiveMinimum, !(value > exclusiveMinimum) {
                cursor.error("must be greater than \(OptionSpec.Kind.format(exclusiveMinimum)), found \(OptionSpec.Kind.format(value))",
                             hint: "\(option.name): \(option.summary)")
                return nil
            }
            guard value <= maximum else {
                cursor.error("must be at most \(OptionSpec.Kind.format(maximum)), found \(OptionSpec.Kind.format(value))",
                             hint: "\(option.name): \(option.summary)")
                return nil
            }
            return .number(value)
        case .string:
            return expand(cursor).map(OptionValue.string)
        case let .choice(values):
            guard let value = cursor.string() else { return nil }
            guard values.contains(value) else {
                let suggestion = Suggestions.closest(to: value, in: values)
                cursor.error("'\(value)' is not one of \(values.joined(separator: ", "))" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""))
                return nil
            }
            return .string(value)
        }
    }

    /// The gates; one on an evaluation in `broken` is dropped without a second error.
    func gates(_ cursor: YAMLCursor, evaluations: [EvaluationSpec], broken: BrokenEntries) -> [GateSpec] {
        guard let list = cursor.list() else { return [] }
        var result: [GateSpec] = []
        for item in list {
            guard let fields = item.mapping(allowed: Self.gateKeys, what: "a gate"),
                  item.requireKeys(["metric"], in: fields, example: "- { metric: bleu.score, min: 20 }") else { continue }
            func field(_ key: String) -> YAMLCursor? { fields.first { $0.key == key }?.value }
            let metricCursor = field("metric")!
            guard let metric = metricCursor.string() else { continue }
            let parts = metric.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                metricCursor.error("gate metric '\(metric)' must be <evaluation id>.<metric>", hint: "e.g. bleu.score")
                continue
            }
            guard let evaluation = evaluations.first(where: { $0.id == parts[0] }) else {
                if broken.evaluations.contains(parts[0]) { continue }
                let ids = evaluations.map(\.id)
                let suggestion = Suggestions.closest(to: parts[0], in: ids)
                metricCursor.error("gate on unknown evaluation '\(parts[0])'" + (suggestion.map { "; did you mean '\($0).\(parts[1])'?" } ?? ""),
                                   hint: "evaluations: \(ids.joined(separator: ", "))")
                continue
            }
            guard let spec = evaluation.evaluator.metrics.first(where: { $0.name == parts[1] }) else {
                let names = evaluation.evaluator.metrics.map(\.name)
                let suggestion = Suggestions.closest(to: parts[1], in: names)
                metricCursor.error("evaluator '\(evaluation.evaluator.id)' has no metric '\(parts[1])'" + (suggestion.map { "; did you mean '\(parts[0]).\($0)'?" } ?? ""),
                                   hint: "its metrics: \(names.joined(separator: ", "))")
                continue
            }
            let earlier = { (id: String) in evaluations.first { $0.id == id }.map { (evaluator: $0.evaluator, options: $0.options) } }
            if let reason = evaluation.evaluator.absentMetric(parts[1], options: evaluation.options)
                ?? evaluation.evaluator.absentMetric(parts[1], options: evaluation.options, reading: earlier) {
                let produced = evaluation.evaluator.metrics.map(\.name).filter {
                    evaluation.evaluator.absentMetric($0, options: evaluation.options) == nil
                        && evaluation.evaluator.absentMetric($0, options: evaluation.options, reading: earlier) == nil
                }
                metricCursor.error("gate on '\(metric)': evaluation '\(parts[0])' gives it no value: \(reason)",
                                   hint: "or gate on one of its metrics: \(produced.joined(separator: ", "))")
                continue
            }
            // A direction given by the evaluation's options (paired-delta's higher_is_better) decides the gate's.
            let optionDirection: Bool? = if spec.directionFromOptions, case let .bool(b)? = evaluation.options.values["higher_is_better"] { b } else { nil }
            var gate = GateSpec(metric: metric, min: nil, max: nil, maxRegression: nil, higherIsBetter: optionDirection ?? spec.higherIsBetter,
                                judgedOnInterval: spec.judgedOnInterval)
            var ok = true
            if let c = field("min") { gate.min = c.double(); ok = ok && gate.min != nil }
            if let c = field("max") { gate.max = c.double(); ok = ok && gate.max != nil }
            if let c = field("max_regression") {
                gate.maxRegression = c.double()
                if let value = gate.maxRegression, value < 0 {
                    c.error("must be zero or more, found \(value)", hint: "the largest allowed worsening against the baseline, in the metric's units")
                    ok = false
                }
                ok = ok && gate.maxRegression != nil
            }
            if let c = field("judge") {
                switch c.string() {
                case "interval": gate.judgedOnInterval = true
                case "value": gate.judgedOnInterval = false
                case let other?:
                    c.error("judge must be 'interval' or 'value', found '\(other)'",
                            hint: "interval: a rule fails only when the whole 95 % interval is on the wrong side; value: the value alone decides")
                    ok = false
                case nil: ok = false
                }
            }
            if gate.min == nil, gate.max == nil, gate.maxRegression == nil, ok {
                item.error("a gate needs min, max or max_regression", hint: "e.g. - { metric: \(metric), min: 20 }")
                ok = false
            }
            if let low = gate.min, let high = gate.max, low > high {
                item.error("min (\(low)) is greater than max (\(high)); no value can pass")
                ok = false
            }
            if ok { result.append(gate) }
        }
        return result
    }
}
