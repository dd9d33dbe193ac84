/// A partial update of one field: leave it as it is, or set it (possibly to null).
public enum FieldUpdate<Value: Sendable>: Sendable {
    case keep
    case set(Value?)

    var isSet: Bool { if case .set = self { return true } else { return false } }
    var value: Value? { if case .set(let value) = self { return value } else { return nil } }
}
