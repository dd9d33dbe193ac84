import Model
import Text

/// The key attributes every table shares: the user's email (lower-cased, as every user row's key), and a
/// history table's sort key, read as strings and validated as the API validates them.
enum KeyAttributes {
    static func email(_ item: DynamoItem) throws(Rejection) -> Email {
        guard let value = try item.value("email"), !value.isNull else { throw Rejection(.missingKey, "no email") }
        guard case .string(let text) = value else { throw Rejection(.invalidEmail, "email is \(value.typeName), not S") }
        // Old clients sent what Spotify's profile held, surrounding spaces included.
        guard let email = Email(text.trimmed()) else {
            throw Rejection(.invalidEmail, "\(RecordKey.quoted(text)) is not an email address")
        }
        return email
    }

    /// The sort key's text (`monthKey`, `weekKey`).
    static func sortKey(_ item: DynamoItem, _ name: String, invalid: Rejection.Reason) throws(Rejection) -> String {
        guard let value = try item.value(name), !value.isNull else { throw Rejection(.missingKey, "no \(name)") }
        guard case .string(let text) = value else { throw Rejection(invalid, "\(name) is \(value.typeName), not S") }
        return text
    }

    /// An optional Spotify id or playlist id: empty means none (ids are non-empty, at most 256 characters).
    static func identifier(_ item: DynamoItem, _ name: String, numbersAllowed: Bool = false) throws(Rejection)
        -> DynamoItem.Field<String> {
        switch try item.text(name, maximumLength: 256, numbersAllowed: numbersAllowed) {
        case .value(let text) where text.isEmpty: return .null
        case let field: return field
        }
    }
}
