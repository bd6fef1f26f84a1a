import AssayCore
import AssayMetrics
import Foundation

/// One rating as read from a file, before it is checked against the scale.
public struct RawRating: Sendable, Equatable {
    /// Where it came from (`line 12`, `task 3`), for error messages.
    public var location: String
    public var item: String
    public var rater: String
    public var label: String

    public init(location: String, item: String, rater: String, label: String) {
        self.location = location
        self.item = item
        self.rater = rater
        self.label = label
    }
}

/// Formats of ratings files.
public enum RatingsFormat: String, Sendable, CaseIterable, Codable {
    case csv, tsv, jsonl
    case labelStudio = "label-studio"

    /// The format implied by a file extension, if any.
    public static func guess(_ path: String) -> RatingsFormat? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "jsonl", "ndjson": return .jsonl
        case "json": return .labelStudio
        default: return nil
        }
    }
}

/// Which columns or fields hold the item id, the rater and the label. Several item columns
/// (`system,seg_id`) are joined with `#`.
public struct RatingsColumns: Sendable, Equatable, Codable {
    public var item: [String]
    public var rater: String
    public var label: String

    public init(item: [String] = ["item"], rater: String = "rater", label: String = "label") {
        self.item = item
        self.rater = rater
        self.label = label
    }
}

/// Reads ratings files (CSV/TSV with a header row, JSON Lines, Label Studio JSON exports),
/// collecting every problem instead of stopping at the first.
public enum RatingsFile {
    /// The ratings in `data`, or all problems found (`line N: …`).
    public static func read(_ data: Data, path: String, format: RatingsFormat, columns: RatingsColumns) -> (ratings: [RawRating], problems: [String]) {
        switch format {
        case .csv, .tsv: return delimited(data, separator: format == .csv ? 0x2C : 0x09, columns: columns)
        case .jsonl: return jsonLines(data, columns: columns)
        case .labelStudio: return labelStudio(data, columns: columns)
        }
    }

    /// A value from a file quoted for a message: at most 60 characters, the rest counted, so a
    /// 5 MB label does not become a 5 MB error.
    public static func quoted(_ value: String) -> String {
        guard value.count > 60 else { return "'\(value)'" }
        return "'\(value.prefix(60))…' (\(value.utf8.count) bytes)"
    }

    /// The bytes of `data` after a UTF-8 byte-order mark, if it starts with one (spreadsheet
    /// exports write it; it would otherwise become part of the first column's name).
    static func droppingBOM(_ data: Data) -> Data {
        data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data
    }

    /// Splits `data` into lines (a leading byte-order mark and a trailing `\r` dropped), reporting
    /// the ones that are not UTF-8 or hold a NUL byte (it would cut ids short in the store).
    static func utf8Lines(_ data: Data) -> (lines: [(number: Int, text: String)], problems: [String]) {
        var lines: [(Int, String)] = []
        var problems: [String] = []
        let data = Data(droppingBOM(data))
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var number = 1
            var start = 0
            func emit(_ end: Int) {
                var stop = end
                if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<stop])
                if let nul = line.firstIndex(of: 0) {
                    problems.append("line \(number): a NUL byte at byte \(nul + 1) of the line (ids and labels cannot hold one)")
                } else if let text = String(validating: line, as: UTF8.self) {
                    lines.append((number, text))
                } else {
                    problems.append("line \(number): not valid UTF-8")
                }
                number += 1
            }
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                emit(i)
                start = i + 1
            }
            if start < bytes.count { emit(bytes.count) }
        }
        return (lines, problems)
    }

    static func delimited(_ data: Data, separator: UInt8, columns: RatingsColumns) -> ([RawRating], [String]) {
        let (lines, encodingProblems) = utf8Lines(data)
        var problems = encodingProblems
        let records = CSVRecords.parse(lines, separator: Unicode.Scalar(separator), problems: &problems)
        guard let header = records.first else {
            return ([], problems + ["the file is empty (expected a header row naming the columns)"])
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var indices: [String: Int] = [:]
        for (i, name) in names.enumerated() where indices[name] == nil { indices[name] = i }
        var missing: [String] = []
        for column in columns.item + [columns.rater, columns.label] where indices[column] == nil { missing.append(column) }
        if !missing.isEmpty {
            return ([], problems + ["line \(header.line): no column \(missing.map { "'\($0)'" }.joined(separator: ", ")) in the header (columns: \(names.joined(separator: ", "))); map them with --item, --rater, --label"])
        }
        // A column in use named twice: which one is meant cannot be known (the first had been
        // taken silently, where Python's csv.DictReader takes the last).
        let twice = Set(columns.item + [columns.rater, columns.label]).sorted().compactMap { column -> String? in
            let positions = names.indices.filter { names[$0] == column }.map { String($0 + 1) }
            return positions.count > 1 ? "'\(column)' (columns \(positions.joined(separator: ", ")))" : nil
        }
        if !twice.isEmpty {
            return ([], problems + ["line \(header.line): the header names \(twice.joined(separator: " and ")) more than once; rename the one you do not mean, or map another column with --item, --rater, --label"])
        }
        let itemColumns = columns.item.map { indices[$0]! }
        let raterColumn = indices[columns.rater]!, labelColumn = indices[columns.label]!
        var ratings: [RawRating] = []
        ratings.reserveCapacity(records.count)
        for record in records.dropFirst() {
            let fields = record.fields
            if fields.count == 1, fields[0].isEmpty { continue }
            if fields.count > names.count, fields[names.count...].contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                problems.append("line \(record.line): \(fields.count) fields where the header names \(names.count) (quote fields that hold the separator)")
                continue
            }
            func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
            let itemParts = itemColumns.map(field)
            let rater = field(raterColumn), label = field(labelColumn)
            if itemParts.contains(where: \.isEmpty) || rater.isEmpty || label.isEmpty {
                var absent: [String] = []
                for (name, part) in zip(columns.item, itemParts) where part.isEmpty { absent.append(name) }
                if rater.isEmpty { absent.append(columns.rater) }
                if label.isEmpty { absent.append(columns.label) }
                problems.append("line \(record.line): missing \(absent.map { "'\($0)'" }.joined(separator: ", "))")
                continue
            }
            ratings.append(RawRating(location: "line \(record.line)", item: itemParts.count == 1 ? itemParts[0] : itemParts.joined(separator: "#"),
                                     rater: rater, label: label))
        }
        return (ratings, problems)
    }

    /// A JSON value as a label or id: strings as they are, integral numbers without ".0".
    static func text(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case let dictionary as [String: Any]:
            return text(dictionary["email"] ?? dictionary["id"])
        default: return nil
        }
    }

    static func jsonLines(_ data: Data, columns: RatingsColumns) -> ([RawRating], [String]) {
        let (lines, encodingProblems) = utf8Lines(data)
        var problems = encodingProblems
        var ratings: [RawRating] = []
        for (number, line) in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let object: [String: Any]
            do { object = try JSONLine.object(line) } catch {
                problems.append("line \(number): \(error.message)")
                continue
            }
            // A field that is there with a value that is no label or id (a list, an object without
            // an email or id, null, "") is named as such, not as missing.
            var absent: [String] = [], unusable: [String] = []
            func field(_ name: String) -> String? {
                if let value = text(object[name]) { return value }
                if let value = object[name] {
                    unusable.append("'\(name)' is \((value as? String)?.isEmpty == true ? "an empty string" : JSONLine.describe(value))")
                } else {
                    absent.append(name)
                }
                return nil
            }
            let itemParts = columns.item.compactMap(field)
            let rater = field(columns.rater), label = field(columns.label)
            guard absent.isEmpty, unusable.isEmpty, let rater, let label else {
                let missing = absent.isEmpty ? [] : ["missing \(absent.map { "'\($0)'" }.joined(separator: ", ")) (fields: \(object.keys.sorted().joined(separator: ", ")))"]
                let kinds = unusable.isEmpty ? [] : [unusable.joined(separator: ", ") + "; expected a non-empty string or a number"]
                problems.append("line \(number): " + (missing + kinds).joined(separator: "; "))
                continue
            }
            ratings.append(RawRating(location: "line \(number)", item: itemParts.joined(separator: "#"), rater: rater, label: label))
        }
        return (ratings, problems)
    }

    /// Label Studio's JSON export: a list of tasks, each with `annotations[].result[]` of type
    /// `choices` (one choice) or `rating`. Item = the task's `id` (or `data.<field>` with --item),
    /// rater = `completed_by` (id or email), label from the result whose `from_name` is --label
    /// (any when --label is left at its default).
    static func labelStudio(_ data: Data, columns: RatingsColumns) -> ([RawRating], [String]) {
        let data = Data(droppingBOM(data))
        if let invalid = UTF8Text.firstInvalid(in: data) { return ([], ["the file is \(invalid)"]) }
        guard let tasks = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            return ([], ["not a Label Studio JSON export (expected a JSON list of tasks)"])
        }
        var problems: [String] = []
        var ratings: [RawRating] = []
        for (index, task) in tasks.enumerated() {
            let taskData = task["data"] as? [String: Any] ?? [:]
            let itemParts = columns.item == ["item"] ? [text(task["id"])] : columns.item.map { text(taskData[$0] ?? task[$0]) }
            let location = "task \(index + 1)" + (text(task["id"]).map { " (id \($0))" } ?? "")
            guard itemParts.allSatisfy({ $0 != nil }) else {
                problems.append("\(location): no item id (\(columns.item.joined(separator: ", ")))")
                continue
            }
            let item = itemParts.map { $0! }.joined(separator: "#")
            // An export lists every task's annotations (an empty list for a task nobody rated); a
            // task without the key is not what Label Studio writes.
            guard let annotations = task["annotations"] as? [[String: Any]] else {
                problems.append("\(location): no 'annotations' list (export the project as JSON from Label Studio; JSON-MIN and old 'completions' exports are not read)")
                continue
            }
            for annotation in annotations {
                if annotation["was_cancelled"] as? Bool == true { continue }
                guard let rater = text(annotation["completed_by"]) else {
                    problems.append("\(location): an annotation has no completed_by")
                    continue
                }
                let results = (annotation["result"] as? [[String: Any]] ?? []).filter {
                    columns.label == "label" || ($0["from_name"] as? String) == columns.label
                }
                var labels: [String] = []
                var multipleChoice: Int?
                for result in results {
                    let value = result["value"] as? [String: Any] ?? [:]
                    if let choices = value["choices"] as? [Any] {
                        if choices.count != 1 { multipleChoice = choices.count }
                        else if let label = text(choices[0]) { labels.append(label) }
                    } else if let rating = text(value["rating"]) {
                        labels.append(rating)
                    }
                }
                // One message an annotation: several choices in one result say so (and not also
                // "no choices").
                if let count = multipleChoice {
                    problems.append("\(location): rater \(rater) chose " + (count == 0 ? "no option; expected one" : "\(count) options; expected one (a single-choice question)"))
                    continue
                }
                guard let label = labels.first else {
                    problems.append("\(location): rater \(rater) has no choices or rating result" + (columns.label == "label" ? "" : " named '\(columns.label)'"))
                    continue
                }
                if labels.count > 1 {
                    problems.append("\(location): rater \(rater) has \(labels.count) results; name one with --label FROM_NAME")
                    continue
                }
                ratings.append(RawRating(location: location, item: item, rater: rater, label: label))
            }
        }
        return (ratings, problems)
    }
}

/// RFC 4180 records (quoted fields may hold separators, quotes and newlines). Read scalar by
/// scalar, not by Swift `Character`: a combining mark after a separator or a quote would join it
/// into one grapheme, and `a,\u{301}b` would be one field.
enum CSVRecords {
    struct Record { var line: Int; var fields: [String] }

    static func parse(_ lines: [(number: Int, text: String)], separator: Unicode.Scalar, problems: inout [String]) -> [Record] {
        var records: [Record] = []
        var index = 0
        while index < lines.count {
            let startLine = lines[index].number
            if !lines[index].text.utf8.contains(0x22) {
                // Fast path: no quoting on this line.
                let fields = lines[index].text.unicodeScalars.split(separator: separator, omittingEmptySubsequences: false)
                records.append(Record(line: startLine, fields: fields.map { String(String.UnicodeScalarView($0)) }))
                index += 1
                continue
            }
            var fields: [String] = []
            var field = String.UnicodeScalarView()
            var inQuotes = false
            var text = lines[index].text
            index += 1
            var chars = Array(text.unicodeScalars)
            var i = 0
            while true {
                if i >= chars.count {
                    if inQuotes, index < lines.count {
                        field.append("\n")
                        text = lines[index].text
                        index += 1
                        chars = Array(text.unicodeScalars)
                        i = 0
                        continue
                    }
                    if inQuotes { problems.append("line \(startLine): unterminated quoted field") }
                    break
                }
                let c = chars[i]
                if inQuotes {
                    if c == "\"" {
                        if i + 1 < chars.count, chars[i + 1] == "\"" {
                            field.append("\"")
                            i += 1
                        } else {
                            inQuotes = false
                            // RFC 4180: a closing quote ends the field; spaces before the separator
                            // are let pass. `"ab"c` is a broken export (Python's csv joins it to abc
                            // unless strict): say so, on the line of the quote, rather than guess.
                            var next = i + 1
                            while next < chars.count, chars[next] == " " { next += 1 }
                            if next < chars.count, chars[next] != separator {
                                problems.append("line \(lines[index - 1].number): text after the closing quote of field \(fields.count + 1) (a quoted field ends at its quote; write a quote inside it as \"\")")
                            } else {
                                i = next - 1
                            }
                        }
                    } else {
                        field.append(c)
                    }
                } else if c == "\"" && field.isEmpty {
                    inQuotes = true
                } else if c == separator {
                    fields.append(String(field))
                    field = String.UnicodeScalarView()
                } else {
                    field.append(c)
                }
                i += 1
            }
            fields.append(String(field))
            records.append(Record(line: startLine, fields: fields))
        }
        return records
    }
}
