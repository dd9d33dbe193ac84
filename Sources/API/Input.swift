import Auth
import HTTP
import JSON
import Model
import Store

/// The fields of a request (query string or JSON body object), read with the checks of SPEC §5.2. Each
/// accessor records a problem instead of throwing, so one 400 names every missing, unexpected and invalid
/// field; `finish()` throws it.
struct Input {
    private let values: [String: JSON]
    private var fields = APIError.Fields()

    /// A query string; `allowed` lists every parameter the route takes.
    init(query: String, allowed: Set<String>) throws(APIError) {
        let pairs: [(key: String, value: String)]
        do {
            pairs = try QueryString.parse(query)
        } catch {
            if case .duplicateKey(let key) = error {
                var fields = APIError.Fields()
                fields.invalid = [key]
                throw APIError(400, .invalidInput, "Invalid User Input - \(error.description)", fields: fields)
            }
            throw APIError(400, .invalidInput, "Invalid User Input - \(error.description)")
        }
        var values: [String: JSON] = [:]
        for (key, value) in pairs { values[key] = .string(value) }
        self.values = values
        fields.unexpected = pairs.map(\.key).filter { !allowed.contains($0) }.map(Input.printable)
    }

    /// A JSON body that must be an object; `allowed` lists every member the route takes.
    init(body: [UInt8], allowed: Set<String>) throws(APIError) {
        let document: JSON
        do {
            document = try JSONParser.parse(body, maxDepth: 16)
        } catch {
            throw APIError(400, .invalidJSON, "Malformed JSON: \(error.description)")
        }
        guard case .object(let object) = document else {
            throw APIError(400, .invalidJSON, "Malformed JSON: the body must be a JSON object, not \(document.typeName)")
        }
        var values: [String: JSON] = [:]
        for member in object.members { values[member.key] = member.value }
        self.values = values
        fields.unexpected = object.keys.filter { !allowed.contains($0) }.map(Input.printable)
    }

    /// Names of unexpected fields are echoed back; keep them short and printable.
    private static func printable(_ name: String) -> String {
        let cleaned = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        return cleaned.count > 64 ? String(cleaned.prefix(64)) + "…" : cleaned
    }

    func has(_ name: String) -> Bool { values[name] != nil }

    // MARK: Typed fields

    /// A non-empty string of at most `maxLength` characters.
    mutating func string(_ name: String, required: Bool, maxLength: Int = 256) -> String? {
        guard let value = values[name] else {
            if required { fields.missing.append(name) }
            return nil
        }
        guard let text = value.stringValue, !text.isEmpty, text.unicodeScalars.count <= maxLength,
              !text.unicodeScalars.contains(where: Input.isControl) else {
            fields.invalid.append(name)
            return nil
        }
        return text
    }

    /// A string that may be null or absent: `.keep` when absent, `.set(nil)` for null. Control characters are
    /// refused as in `string`.
    mutating func nullableString(_ name: String, maxLength: Int) -> FieldUpdate<String> {
        guard let value = values[name] else { return .keep }
        if value.isNull { return .set(nil) }
        guard let text = value.stringValue, text.unicodeScalars.count <= maxLength,
              !text.unicodeScalars.contains(where: Input.isControl) else {
            fields.invalid.append(name)
            return .keep
        }
        return .set(text)
    }

    /// C0 and C1 control characters and DEL (Unicode's general category Cc): never part of a name, an id or a
    /// token, and U+0000 would cut a PostgreSQL text short.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    mutating func bool(_ name: String, required: Bool) -> Bool? {
        guard let value = values[name] else {
            if required { fields.missing.append(name) }
            return nil
        }
        guard let flag = value.boolValue else {
            fields.invalid.append(name)
            return nil
        }
        return flag
    }

    /// The user a request names by `email` (SPEC §5.1). Under a user token an `email` that is empty or not an email
    /// at all counts as absent (later web builds send `email=undefined` when Spotify's profile has none); under a
    /// legacy token, or on a route without one, it must be an email.
    mutating func requestedEmail(under identity: Identity?) -> Email? {
        guard case .user = identity, let value = values["email"] else { return email() }
        guard let text = value.stringValue else {
            fields.invalid.append("email")
            return nil
        }
        return Email(text)
    }

    mutating func email(_ name: String = "email", required: Bool = false) -> Email? {
        guard let text = string(name, required: required, maxLength: 254) else { return nil }
        guard let email = Email(text) else {
            fields.invalid.append(name)
            return nil
        }
        return email
    }

    mutating func monthKey(_ name: String) -> MonthKey? {
        guard let text = string(name, required: true, maxLength: 7) else { return nil }
        guard let month = MonthKey(text) else {
            fields.invalid.append(name)
            return nil
        }
        return month
    }

    mutating func year(_ name: String) -> Int? {
        guard let text = string(name, required: true, maxLength: 4) else { return nil }
        guard text.utf8.count == 4, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let year = Int(text) else {
            fields.invalid.append(name)
            return nil
        }
        return year
    }

    /// An integer in `range` given as query text.
    mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = values[name] else { return nil }
        guard let text = value.stringValue, text.utf8.count <= 6, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let number = Int(text), range.contains(number) else {
            fields.invalid.append(name)
            return nil
        }
        return number
    }

    mutating func markInvalid(_ name: String) { fields.invalid.append(name) }
    mutating func markMissing(_ name: String) { fields.missing.append(name) }

    /// Throws the 400 naming every problem recorded, if any.
    func finish() throws(APIError) {
        guard fields.isEmpty else { throw APIError.invalidInput(fields) }
    }
}
