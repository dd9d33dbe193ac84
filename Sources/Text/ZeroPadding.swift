/// The one zero-padding helper: dates, keys, hex digits and log timestamps.
public enum ZeroPadding {
    /// `value` in decimal, left-padded with zeros to at least `width` digits (`pad(7, 2)` is `07`).
    public static func pad<Value: BinaryInteger>(_ value: Value, _ width: Int) -> String {
        pad(String(value), width)
    }

    /// `value` in `radix`, left-padded with zeros to at least `width` digits.
    public static func pad<Value: BinaryInteger>(_ value: Value, _ width: Int, radix: Int, uppercase: Bool = false) -> String {
        pad(String(value, radix: radix, uppercase: uppercase), width)
    }

    private static func pad(_ digits: String, _ width: Int) -> String {
        digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
