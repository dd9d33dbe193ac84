/// A parsed JSON document. Objects keep their members in document order (keys are unique: the parser
/// rejects duplicates), and numbers keep their literal so that nothing is rounded on the way through.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    /// The value as an integer, when it is a JSON number with no fraction that fits in 64 bits.
    public var intValue: Int? { numberValue?.int }
    public var doubleValue: Double? { numberValue?.double }

    /// Member lookup on objects; `.null` for anything else or a missing key.
    public subscript(key: String) -> JSON {
        objectValue?[key] ?? .null
    }

    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public init(_ value: String) { self = .string(value) }
    public init(_ value: Bool) { self = .bool(value) }
    public init(_ value: Int) { self = .number(JSONNumber(value)) }
}

/// A JSON number as written.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    public let literal: String

    public init(literal: String) { self.literal = literal }
    public init(_ value: Int) { literal = String(value) }

    /// The integer value, nil when the literal has a fraction or exponent or does not fit in 64 bits.
    public var int: Int? {
        Int(literal)
    }

    public var double: Double? { Double(literal) }

    public var description: String { literal }
}

/// A JSON object: members in document order with unique keys.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSON

        public init(key: String, value: JSON) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var members: [Member]

    public init() { members = [] }
    public init(_ members: [Member]) { self.members = members }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public subscript(key: String) -> JSON? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    public func contains(_ key: String) -> Bool { self[key] != nil }

    /// Appends a member; the caller guarantees the key is new (the parser checks).
    public mutating func append(_ key: String, _ value: JSON) {
        members.append(Member(key: key, value: value))
    }

    /// Sets a member, replacing the value of an existing key in place.
    public mutating func set(_ key: String, _ value: JSON) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index] = Member(key: key, value: value)
        } else {
            members.append(Member(key: key, value: value))
        }
    }
}
