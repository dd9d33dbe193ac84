/// The records of a page of `aws dynamodb scan --output json`: `{"Items": [{…}, …], "Count": …, …}`. The
/// elements of `Items` are cut out one by one as the file streams by, so a page of any size is read in the
/// memory of its largest item; each element is parsed (and validated) later, on its own. The rest of the page
/// (`Count`, `ScannedCount`, `LastEvaluatedKey`, `NextToken`, …) is skipped.
final class ScanPageRecords: RecordSource {
    private let bytes: FileBytes
    private var chunk: [UInt8] = []
    private var index = 0
    private var ended = false
    private var itemCount = 0

    private enum State {
        case start
        /// Inside the page object: a member (its key) or its end is next.
        case member(first: Bool)
        /// Inside `Items`: an element or the array's end is next.
        case items(first: Bool)
        case finished
    }

    private var state = State.start

    var path: String { bytes.path }

    init(_ bytes: FileBytes) {
        self.bytes = bytes
    }

    func next() throws(ReadError) -> RawRecord? {
        while true {
            switch state {
            case .start:
                guard try skipSpace() == UInt8(ascii: "{") else { throw failure("a scan page is a JSON object") }
                index += 1
                state = .member(first: true)
            case .member(let first):
                var byte = try skipSpace()
                if byte == UInt8(ascii: "}") {
                    index += 1
                    guard try skipSpace() == nil else { throw failure("data after the page object") }
                    state = .finished
                    continue
                }
                if !first {
                    guard byte == UInt8(ascii: ",") else { throw failure("expected , or } between members") }
                    index += 1
                    byte = try skipSpace()
                }
                guard byte == UInt8(ascii: "\"") else { throw failure("expected a member name") }
                let key = try readString()
                guard try skipSpace() == UInt8(ascii: ":") else { throw failure("expected : after \"\(key)\"") }
                index += 1
                if key == "Items" {
                    guard try skipSpace() == UInt8(ascii: "[") else { throw failure("Items is not an array") }
                    index += 1
                    state = .items(first: true)
                } else {
                    try skipValue()
                    state = .member(first: false)
                }
            case .items(let first):
                var byte = try skipSpace()
                if byte == UInt8(ascii: "]") {
                    index += 1
                    state = .member(first: false)
                    continue
                }
                if !first {
                    guard byte == UInt8(ascii: ",") else { throw failure("expected , or ] between items") }
                    index += 1
                    byte = try skipSpace()
                }
                guard byte == UInt8(ascii: "{") else { throw failure("an element of Items is not an object") }
                itemCount += 1
                state = .items(first: false)
                return RawRecord(bytes: try readContainer(), position: "item \(itemCount)")
            case .finished:
                return nil
            }
        }
    }

    private func failure(_ reason: String) -> ReadError {
        ReadError(path, "not a scan page (\(reason))")
    }

    /// Makes sure `chunk[index]` exists; false at the end of the file.
    private func available() throws(ReadError) -> Bool {
        while index == chunk.count {
            if ended { return false }
            chunk = try bytes.next()
            index = 0
            if chunk.isEmpty { ended = true }
        }
        return true
    }

    /// Skips whitespace; the next byte (not consumed), nil at the end of the file.
    private func skipSpace() throws(ReadError) -> UInt8? {
        while try available() {
            let byte = chunk[index]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return byte }
            index += 1
        }
        return nil
    }

    /// A member name (at its opening quote); escapes are resolved by the JSON parser.
    private func readString() throws(ReadError) -> String {
        var raw: [UInt8] = []
        index += 1
        var escaped = false
        while try available() {
            let byte = chunk[index]
            index += 1
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                guard let text = AttributeKeys.unescape(raw) else { throw failure("a malformed member name") }
                return text
            }
            raw.append(byte)
            guard raw.count <= 1024 else { throw failure("a member name longer than 1024 bytes") }
        }
        throw failure("the file ends inside a member name")
    }

    /// Skips a member's value of any kind.
    private func skipValue() throws(ReadError) {
        guard let byte = try skipSpace() else { throw failure("the file ends before a value") }
        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "\"") {
            _ = try scanValue(keeping: false)
            return
        }
        // A number, true, false or null: up to the next separator.
        while try available() {
            let byte = chunk[index]
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == 0x20 || byte == 0x0A || byte == 0x0D
                || byte == 0x09 { return }
            index += 1
        }
    }

    /// An object or array (at its opening bracket), with everything in it.
    private func readContainer() throws(ReadError) -> [UInt8] {
        try scanValue(keeping: true)
    }

    /// Scans a string, object or array from its first byte to its last, keeping its bytes when asked. The scan
    /// only balances brackets outside strings; the JSON parser checks the rest when the record is parsed.
    private func scanValue(keeping: Bool) throws(ReadError) -> [UInt8] {
        var kept: [UInt8] = []
        var depth = 0
        var inString = false
        var escaped = false
        while try available() {
            let start = index
            var end: Int?
            chunk.withUnsafeBufferPointer { buffer in
                var position = index
                while position < buffer.count {
                    let byte = buffer[position]
                    if inString {
                        if escaped {
                            escaped = false
                        } else if byte == 0x5C {
                            escaped = true
                        } else if byte == 0x22 {
                            inString = false
                            if depth == 0 { end = position; return }
                        }
                    } else if byte == 0x22 {
                        inString = true
                    } else if byte == 0x7B || byte == 0x5B {
                        depth += 1
                    } else if byte == 0x7D || byte == 0x5D {
                        depth -= 1
                        if depth == 0 { end = position; return }
                    }
                    position += 1
                }
            }
            let stop = end.map { $0 + 1 } ?? chunk.count
            if keeping {
                kept.append(contentsOf: chunk[start..<stop])
                guard kept.count <= LineRecords.maximumLineBytes else {
                    throw failure("an item longer than \(LineRecords.maximumLineBytes) bytes")
                }
            }
            index = stop
            if end != nil { return kept }
        }
        throw failure("the file ends inside \(keeping ? "an item" : "a value")")
    }
}
