import Foundation

/// One line of a JSON Lines file read as an object, with a message that tells a line that is not
/// JSON from JSON that is not an object (both had read "not a JSON object").
public enum JSONLine {
    /// Why a line is not a JSON object, as a phrase for "line N: …".
    public struct Problem: Error, Sendable {
        public let message: String
    }

    /// The line's object.
    /// - Throws: ``Problem`` "not valid JSON: …" or "a JSON list, not an object".
    public static func object(_ line: some StringProtocol) throws(Problem) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            // The parser's own words say where ("Invalid value around character 35").
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String)
                .map { ": " + $0.trimmingCharacters(in: CharacterSet(charactersIn: ". ")).replacingOccurrences(of: "is not representable in Swift", with: "is beyond a double's range") } ?? ""
            let special = ["NaN", "Infinity"].contains { line.contains($0) } ? " (NaN and Infinity are not JSON: write null or a string)" : ""
            throw Problem(message: "not valid JSON" + detail + special)
        }
        guard let object = value as? [String: Any] else { throw Problem(message: "\(describe(value)), not an object") }
        return object
    }

    /// "a JSON list", "a JSON string", "null", …: what a value is, for messages about values of the
    /// wrong kind.
    public static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is [Any]: return "a JSON list"
        case is [String: Any]: return "a JSON object"
        case is String: return "a JSON string"
        case let n as NSNumber: return String(cString: n.objCType) == "c" ? "a JSON boolean" : "a JSON number"
        default: return "a JSON value"
        }
    }
}
