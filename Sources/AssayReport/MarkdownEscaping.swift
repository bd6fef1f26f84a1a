/// Escaping for text that came from models, datasets or users and lands in Markdown.
public enum MarkdownEscaping {
    /// Text for a table cell: HTML special characters as entities, pipes escaped, newlines as
    /// `<br>`, backticks and other Markdown markers escaped so nothing renders as code or links.
    public static func cell(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        var previousWasCR = false
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "|": out += "\\|"
            case "\r\n", "\n": if !previousWasCR { out += "<br>" }
            case "\r": out += "<br>"
            case "`", "*", "_", "[", "]", "\\": out += "\\" + String(ch)
            default: out.append(ch)
            }
            previousWasCR = ch == "\r"
        }
        return out
    }

    /// Text inside an inline code span: backticks cannot close it early.
    public static func code(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        var fence = "`"
        while flat.contains(fence) { fence += "`" }
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return fence + pad + flat + pad + fence
    }
}
