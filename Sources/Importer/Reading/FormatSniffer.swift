/// Tells an S3 export's data file (`{"Item": …}` lines) from a scan page (`{"Items": […], …}`) by the first
/// member name of the file's first object.
enum FormatSniffer {
    /// Nil for an empty file (AWS writes empty data files for empty partitions).
    static func format(of bytes: FileBytes) throws(ReadError) -> ExportSource.Format? {
        let start = try bytes.peek()
        var index = 0
        func skipSpace() {
            while index < start.count, [0x20, 0x0A, 0x0D, 0x09].contains(start[index]) { index += 1 }
        }
        skipSpace()
        if index == start.count { return nil }
        guard start[index] == UInt8(ascii: "{") else {
            throw ReadError(bytes.path, "neither an export's data file nor a scan page (not JSON objects)")
        }
        index += 1
        skipSpace()
        let item = Array("\"Item\"".utf8)
        guard index + item.count <= start.count else { return .scanPage }
        return Array(start[index..<index + item.count]) == item ? .lines : .scanPage
    }
}
