import JSON

/// Which table an item belongs to when no manifest says (SPEC §13: `monthKey` makes it wrapped history,
/// `weekKey` release radar history, anything else a user), found from its attribute names without parsing the
/// item: the importer reads every file twice (users first), and parses each item only in the pass that imports it.
enum AttributeKeys {
    /// The table an item's attribute names point to. `depth` is the nesting of the attributes' object: 1 for a
    /// scan page's element, 2 for a data file's `{"Item": {…}}`.
    static func table(of bytes: [UInt8], depth target: Int) -> ExportTable {
        var stack: [UInt8] = []
        var expectingKey = false
        var foundWeekKey = false
        var index = 0
        let count = bytes.count
        return bytes.withUnsafeBufferPointer { buffer -> ExportTable in
            while index < count {
                let byte = buffer[index]
                switch byte {
                case 0x22:  // a string: a member name when one is expected
                    let start = index + 1
                    var escaped = false
                    var hasEscape = false
                    index += 1
                    while index < count {
                        let inner = buffer[index]
                        if escaped {
                            escaped = false
                        } else if inner == 0x5C {
                            escaped = true
                            hasEscape = true
                        } else if inner == 0x22 {
                            break
                        }
                        index += 1
                    }
                    if expectingKey && stack.count == target {
                        let raw = Array(buffer[start..<min(index, count)])
                        let name = hasEscape ? unescape(raw) : String(decoding: raw, as: UTF8.self)
                        if name == "monthKey" { return .wrappedHistory }
                        if name == "weekKey" { foundWeekKey = true }
                    }
                    expectingKey = false
                case 0x7B:
                    stack.append(byte)
                    expectingKey = true
                case 0x5B:
                    stack.append(byte)
                    expectingKey = false
                case 0x7D, 0x5D:
                    _ = stack.popLast()
                    expectingKey = false
                case 0x2C:
                    expectingKey = stack.last == 0x7B
                default:
                    break
                }
                index += 1
            }
            return foundWeekKey ? .releaseRadarHistory : .users
        }
    }

    /// The text of a JSON string's raw contents (between its quotes), escapes resolved.
    static func unescape(_ raw: [UInt8]) -> String? {
        (try? JSONParser.parse([0x22] + raw + [0x22]))?.stringValue
    }
}
