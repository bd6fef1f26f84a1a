import AssayEvaluators
import Foundation

/// Judges gates against a run's metric values and an optional baseline.
public enum GateJudge {
    /// One result per rule of every gate, in suite order.
    public static func judge(_ gates: [GateSpec], evaluations: [EvaluationOutcome], baseline: Baseline?) -> [GateResult] {
        var results: [GateResult] = []
        for gate in gates {
            let evaluation = evaluations.first { $0.id == gate.evaluationID }
            let metric = evaluation?.metrics.first { $0.name == gate.metricName }
            let value = metric?.value
            // Noisy metrics: judge the end of the 95 % interval most favourable to the rule.
            let interval: (low: Double, high: Double)? = gate.judgedOnInterval ? metric.flatMap { m in
                m.ciLow.flatMap { low in m.ciHigh.map { (low, $0) } }
            } : nil
            let onInterval = interval.map { " (judged on the 95 % interval [\(format($0.low)), \(format($0.high))])" }
                ?? (gate.judgedOnInterval ? " (no interval was computed: judged on the value)" : "")
            func missing(_ rule: String, _ threshold: Double) -> GateResult {
                let reason = metric?.note?.contains("not finite") == true ? "the value was not finite (\(metric!.note!))"
                    : evaluation?.status == .ok ? "metric has no value" + (metric?.note.map { ": \($0)" } ?? "")
                    : "evaluation '\(gate.evaluationID)' did not finish"
                return GateResult(metric: gate.metric, rule: rule, threshold: threshold, value: nil, baseline: nil, delta: nil,
                                  status: .error, message: reason)
            }
            if let min = gate.min {
                if let value {
                    let ok = (interval?.high ?? value) >= min
                    results.append(GateResult(metric: gate.metric, rule: "min", threshold: min, value: value, baseline: nil, delta: nil,
                                              status: ok ? .pass : .fail,
                                              message: (ok ? "\(format(value)) ≥ \(format(min))" : "\(format(value)) is below the minimum \(format(min)) by \(format(min - value))") + onInterval))
                } else { results.append(missing("min", min)) }
            }
            if let max = gate.max {
                if let value {
                    let ok = (interval?.low ?? value) <= max
                    results.append(GateResult(metric: gate.metric, rule: "max", threshold: max, value: value, baseline: nil, delta: nil,
                                              status: ok ? .pass : .fail,
                                              message: (ok ? "\(format(value)) ≤ \(format(max))" : "\(format(value)) is above the maximum \(format(max)) by \(format(value - max))") + onInterval))
                } else { results.append(missing("max", max)) }
            }
            if let allowed = gate.maxRegression {
                guard let value else { results.append(missing("max_regression", allowed)); continue }
                guard let baseline, let base = baseline.values[gate.metric] else {
                    let why = baseline == nil ? "no baseline (pass --baseline latest or a run id)" : "baseline run \(baseline!.runID) has no \(gate.metric)"
                    results.append(GateResult(metric: gate.metric, rule: "max_regression", threshold: allowed, value: value, baseline: nil,
                                              delta: nil, status: .skipped, message: why))
                    continue
                }
                let delta = value - base
                let worsening = gate.higherIsBetter ? -delta : delta
                // On the interval: the best end of the current interval must be within the allowance.
                let judged = interval.map { gate.higherIsBetter ? base - $0.high : $0.low - base } ?? worsening
                let ok = judged <= allowed + 1e-12 * Swift.max(1, abs(base))
                let message = (ok
                    ? "changed by \(signed(delta)) from baseline \(format(base)) (allowed worsening \(format(allowed)))"
                    : "worse than baseline \(format(base)) by \(format(worsening)), more than the allowed \(format(allowed))") + onInterval
                results.append(GateResult(metric: gate.metric, rule: "max_regression", threshold: allowed, value: value, baseline: base,
                                          delta: delta, status: ok ? .pass : .fail, message: message))
            }
        }
        return results
    }

    /// The verdict from evaluation statuses and gate results.
    public static func verdict(evaluations: [EvaluationOutcome], gates: [GateResult], interrupted: Bool) -> RunOutcome.Verdict {
        if interrupted { return .interrupted }
        if evaluations.contains(where: { $0.status != .ok }) || gates.contains(where: { $0.status == .error }) { return .error }
        if gates.contains(where: { $0.status == .fail }) { return .fail }
        return .pass
    }

    /// A number for reports and messages: 4 decimals, or 4 significant digits when that needs
    /// more, trailing zeros dropped — never rounded to a value that hides it: 0.001149
    /// stays 0.001149 and a standard error of 0.000016 stays 0.000016 (fixed decimals printed
    /// 0.0011 and 0), and 0.9999956 gets the digits that tell it from 1.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        guard value != 0 else { return "0" }
        let magnitude = abs(value)
        if magnitude < 1e-12 || magnitude >= 1e15 { return String(format: "%.4g", value) }
        let exponent = Int(floor(log10(magnitude)))
        // At least 4 decimals (what reports printed before), more for small values.
        var decimals = max(4, 3 - exponent)
        func render(_ decimals: Int) -> String {
            var text = String(format: "%.\(decimals)f", value)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text == "-0" ? "0" : text
        }
        var text = render(decimals)
        // A value under 1,000 that is not whole but printed whole (0.9999956 → 1, 99.999991 →
        // 100) gets more digits; from 1,000 up the integer digits are the significant ones.
        while magnitude < 1000, value != value.rounded(), !text.contains("."), decimals < 12 {
            decimals += 1
            text = render(decimals)
        }
        return text
    }

    static func signed(_ value: Double) -> String { value >= 0 ? "+\(format(value))" : format(value) }
}
