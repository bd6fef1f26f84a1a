import AssayCore
import AssaySuite
import Foundation

/// JUnit XML: one test case per gate rule, plus one per evaluation that failed to run, so CI
/// systems show gate failures as test failures.
public enum JUnitReport {
    /// The XML document for `outcome`.
    public static func render(_ outcome: RunOutcome) -> String {
        let seconds = outcome.finished.timeIntervalSince(outcome.started)
        let failures = outcome.gates.filter { $0.status == .fail }.count
        let errors = outcome.gates.filter { $0.status == .error }.count + outcome.evaluations.filter { $0.status != .ok }.count
        let skipped = outcome.gates.filter { $0.status == .skipped }.count
        let tests = outcome.gates.count + outcome.evaluations.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"assay\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", seconds))\">\n"
        xml += "  <testsuite name=\"\(escape(outcome.suite))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", seconds))\" timestamp=\"\(ReportDocument.timestamp(outcome.started))\">\n"
        xml += "    <properties><property name=\"run_id\" value=\"\(escape(outcome.runID))\"/><property name=\"verdict\" value=\"\(outcome.verdict.rawValue)\"/></properties>\n"
        for e in outcome.evaluations {
            xml += "    <testcase classname=\"\(escape(outcome.suite)).evaluations\" name=\"\(escape(e.id))\" time=\"\(String(format: "%.3f", e.seconds))\">"
            if e.status != .ok {
                xml += "<error message=\"\(escape(e.error.map { ($0.errorDescription ?? $0.message) + ($0.hint.map { " (hint: \($0))" } ?? "") } ?? e.status.rawValue))\" type=\"\(e.status.rawValue)\"/>"
            }
            xml += "</testcase>\n"
        }
        for gate in outcome.gates {
            xml += "    <testcase classname=\"\(escape(outcome.suite)).gates\" name=\"\(escape(gate.metric)) \(gate.rule)\" time=\"0\">"
            switch gate.status {
            case .pass: break
            case .fail: xml += "<failure message=\"\(escape(gate.message))\" type=\"gate\"/>"
            case .error: xml += "<error message=\"\(escape(gate.message))\" type=\"gate\"/>"
            case .skipped: xml += "<skipped message=\"\(escape(gate.message))\"/>"
            }
            xml += "</testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// XML attribute/text escaping; characters XML 1.0 forbids become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
