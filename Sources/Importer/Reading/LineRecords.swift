/// The records of an S3 export's data file: one `{"Item": {…}}` per line (blank lines skipped). A line is never
/// longer than DynamoDB's 400 KB item limit in its JSON form; a longer one is refused rather than buffered.
final class LineRecords: RecordSource {
    static let maximumLineBytes = 4 << 20

    private let bytes: FileBytes
    private var chunk: [UInt8] = []
    private var index = 0
    private var line: [UInt8] = []
    private var lineNumber = 0
    private var ended = false

    var path: String { bytes.path }

    init(_ bytes: FileBytes) {
        self.bytes = bytes
    }

    func next() throws(ReadError) -> RawRecord? {
        while true {
            guard let text = try nextLine() else { return nil }
            if text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                return RawRecord(bytes: text, position: "line \(lineNumber)")
            }
        }
    }

    private func nextLine() throws(ReadError) -> [UInt8]? {
        line.removeAll(keepingCapacity: true)
        while true {
            if index == chunk.count {
                if ended { return nil }
                chunk = try bytes.next()
                index = 0
                if chunk.isEmpty {
                    ended = true
                    if line.isEmpty { return nil }
                    lineNumber += 1
                    return line
                }
            }
            let newline = chunk.withUnsafeBufferPointer { buffer -> Int? in
                var position = index
                while position < buffer.count {
                    if buffer[position] == 0x0A { return position }
                    position += 1
                }
                return nil
            }
            let end = newline ?? chunk.count
            line.append(contentsOf: chunk[index..<end])
            guard line.count <= LineRecords.maximumLineBytes else {
                throw ReadError(path, "line \(lineNumber + 1) is longer than \(LineRecords.maximumLineBytes) bytes: not an export's data file")
            }
            if let newline {
                index = newline + 1
                lineNumber += 1
                return line
            }
            index = end
        }
    }
}
