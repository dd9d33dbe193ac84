import JSON

/// One attribute value in DynamoDB JSON: an object with a single member whose name is the type (`S`, `N`, `B`,
/// `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`). Numbers stay as DynamoDB wrote them (strings of decimal digits);
/// maps keep the export's member order (it decides ties between genre scores).
enum AttributeValue {
    case string(String)
    case number(String)
    case binary(String)
    case bool(Bool)
    case null
    case map(JSONObject)
    case list([JSON])
    case stringSet([String])
    case numberSet([String])
    case binarySet([String])

    /// Nil when `json` is not a DynamoDB JSON value.
    init?(_ json: JSON) {
        guard let object = json.objectValue, object.count == 1, let member = object.members.first else { return nil }
        let value = member.value
        switch member.key {
        case "S": guard let text = value.stringValue else { return nil }; self = .string(text)
        case "N":
            // DynamoDB JSON writes numbers as strings; a bare JSON number is accepted as the same.
            if let text = value.stringValue { self = .number(text) }
            else if let number = value.numberValue { self = .number(number.literal) }
            else { return nil }
        case "B": guard let text = value.stringValue else { return nil }; self = .binary(text)
        case "BOOL": guard let flag = value.boolValue else { return nil }; self = .bool(flag)
        case "NULL": self = .null
        case "M": guard let map = value.objectValue else { return nil }; self = .map(map)
        case "L": guard let list = value.arrayValue else { return nil }; self = .list(list)
        case "SS", "NS", "BS":
            guard let items = value.arrayValue else { return nil }
            let texts = items.compactMap { $0.stringValue ?? $0.numberValue?.literal }
            guard texts.count == items.count else { return nil }
            self = member.key == "SS" ? .stringSet(texts) : member.key == "NS" ? .numberSet(texts) : .binarySet(texts)
        default: return nil
        }
    }

    /// The type's name, for messages.
    var typeName: String {
        switch self {
        case .string: return "S"
        case .number: return "N"
        case .binary: return "B"
        case .bool: return "BOOL"
        case .null: return "NULL"
        case .map: return "M"
        case .list: return "L"
        case .stringSet: return "SS"
        case .numberSet: return "NS"
        case .binarySet: return "BS"
        }
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }
}
