import JSON

/// How a record is named in its log line and in the summary: its table's key attributes as the export holds them
/// (`email=… monthKey=…`), never anything else of the item (a refresh token least of all).
enum RecordKey {
    static func describe(_ attributes: JSONObject?, table: ExportTable) -> String {
        var names = ["email"]
        switch table {
        case .users: break
        case .wrappedHistory: names.append("monthKey")
        case .releaseRadarHistory: names.append("weekKey")
        }
        return names.map { name in
            guard let json = attributes?[name] else { return "\(name)=(missing)" }
            switch AttributeValue(json) {
            case .string(let text)?, .number(let text)?: return "\(name)=\(quoted(text))"
            case let value?: return "\(name)=(\(value.typeName))"
            case nil: return "\(name)=(not DynamoDB JSON)"
            }
        }.joined(separator: " ")
    }

    /// A value for a message: at most 80 characters, control characters shown as `?`, quoted when it holds a
    /// space or is empty.
    static func quoted(_ text: String) -> String {
        var shown = String(text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        if text.unicodeScalars.count > 80 { shown += "…" }
        return shown.isEmpty || shown.contains(" ") || shown.contains("\"") ? "\"\(shown.replacing("\"", with: "\\\""))\"" : shown
    }
}
