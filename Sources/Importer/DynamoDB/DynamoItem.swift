import JSON

/// An item's attributes, read with the forms the old system is known to have written: numbers as `N` strings
/// (or `S` holding a number), booleans as `BOOL`, `N` 0/1 or `S` "true"/"false". Every refusal is a `Rejection`
/// naming the attribute; the value is quoted unless the attribute is secret.
struct DynamoItem {
    let attributes: JSONObject

    /// An attribute that may be missing, explicitly `NULL`, or hold a value.
    enum Field<Value> {
        case absent
        case null
        case value(Value)

        var value: Value? { if case .value(let value) = self { return value } else { return nil } }
    }

    /// The item of a record: `{"Item": {…}}` (a data file's line) or `{…}` (a scan page's element).
    init(_ record: RawRecord, format: ExportSource.Format) throws(Rejection) {
        let json: JSON
        do { json = try JSONParser.parse(record.bytes) } catch {
            throw Rejection(.notAnItem, "not JSON: \(error)")
        }
        let item = format == .lines ? json["Item"] : json
        guard let attributes = item.objectValue else {
            throw Rejection(.notAnItem, format == .lines ? "no \"Item\" object" : "not an object")
        }
        self.attributes = attributes
    }

    init(attributes: JSONObject) {
        self.attributes = attributes
    }

    func has(_ name: String) -> Bool { attributes[name] != nil }

    /// The attribute's DynamoDB value; nil when it is missing.
    func value(_ name: String) throws(Rejection) -> AttributeValue? {
        guard let json = attributes[name] else { return nil }
        guard let value = AttributeValue(json) else {
            throw Rejection(.invalidAttribute, "\(name): not a DynamoDB JSON value")
        }
        return value
    }

    /// A string attribute (`S`; `N` too when `numbersAllowed`), at most `maximumLength` characters.
    func text(_ name: String, maximumLength: Int, numbersAllowed: Bool = false, secret: Bool = false)
        throws(Rejection) -> Field<String> {
        guard let value = try value(name) else { return .absent }
        switch value {
        case .null: return .null
        case .string(let text): return try checkedLength(text, name, maximumLength, secret: secret)
        case .number(let text) where numbersAllowed: return try checkedLength(text, name, maximumLength, secret: secret)
        default: throw DynamoItem.mismatch(name, "a string", value, secret: secret)
        }
    }

    private func checkedLength(_ text: String, _ name: String, _ maximum: Int, secret: Bool) throws(Rejection) -> Field<String> {
        guard text.unicodeScalars.count <= maximum else {
            throw Rejection(.invalidAttribute, "\(name): longer than \(maximum) characters")
        }
        return .value(text)
    }

    /// A boolean attribute; nil when missing or `NULL`.
    func flag(_ name: String) throws(Rejection) -> Bool? {
        guard let value = try value(name), !value.isNull else { return nil }
        guard let flag = value.flag else {
            throw DynamoItem.mismatch(name, "a boolean (BOOL, N 0 or 1, S \"true\" or \"false\")", value)
        }
        return flag
    }

    /// An instant attribute; nil when missing or `NULL`.
    func timestamp(_ name: String) throws(Rejection) -> ExportTimestamp? {
        guard let value = try value(name), !value.isNull else { return nil }
        guard let instant = ExportTimestamp(value) else {
            throw DynamoItem.mismatch(name, "a time (ISO-8601 or seconds or milliseconds since 1970)", value)
        }
        return instant
    }

    static func mismatch(_ name: String, _ expected: String, _ value: AttributeValue, secret: Bool = false) -> Rejection {
        Rejection(.invalidAttribute, "\(name): expected \(expected), found \(secret ? value.typeName : value.shown)")
    }
}

extension AttributeValue {
    /// `BOOL`, `N` 0 or 1, `S` "true"/"false" (any case) or "1"/"0".
    var flag: Bool? {
        switch self {
        case .bool(let flag): return flag
        case .number(let text):
            switch Double(text) {
            case 0?: return false
            case 1?: return true
            default: return nil
            }
        case .string(let text):
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// A whole number from `N` (or an `S` holding one): "12", "12.0", "1.2E1".
    var integer: Int? {
        let text: String
        switch self {
        case .number(let literal): text = literal
        case .string(let literal): text = literal
        default: return nil
        }
        if let exact = Int(text) { return exact }
        guard let real = Double(text), real.isFinite, real == real.rounded(), abs(real) < 9e15 else { return nil }
        return Int(real)
    }

    /// The value as a message shows it: its type, and a short quote of a scalar.
    var shown: String {
        switch self {
        case .string(let text), .number(let text): return "\(typeName) \(RecordKey.quoted(text))"
        case .bool(let flag): return "BOOL \(flag)"
        default: return typeName
        }
    }
}
