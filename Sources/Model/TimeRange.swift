/// Spotify's three top-list time ranges, in the order the API emits them.
public enum TimeRange: String, CaseIterable, Sendable, Hashable {
    case shortTerm = "short_term"
    case mediumTerm = "medium_term"
    case longTerm = "long_term"
}

/// One list per time range.
public struct PerTimeRange<Value: Sendable & Equatable>: Sendable, Equatable {
    public var shortTerm: Value
    public var mediumTerm: Value
    public var longTerm: Value

    public init(shortTerm: Value, mediumTerm: Value, longTerm: Value) {
        self.shortTerm = shortTerm
        self.mediumTerm = mediumTerm
        self.longTerm = longTerm
    }

    public init(_ make: (TimeRange) -> Value) {
        self.init(shortTerm: make(.shortTerm), mediumTerm: make(.mediumTerm), longTerm: make(.longTerm))
    }

    public subscript(range: TimeRange) -> Value {
        get {
            switch range {
            case .shortTerm: return shortTerm
            case .mediumTerm: return mediumTerm
            case .longTerm: return longTerm
            }
        }
        set {
            switch range {
            case .shortTerm: shortTerm = newValue
            case .mediumTerm: mediumTerm = newValue
            case .longTerm: longTerm = newValue
            }
        }
    }
}
