/// One item's text as it stands in a file, before it is parsed.
struct RawRecord {
    /// The JSON text: `{"Item": {…}}` (a line of an S3 export's data file) or `{…}` (an element of a scan
    /// page's `Items`).
    var bytes: [UInt8]
    /// Where it is, for messages: its line in a data file, its position in a scan page.
    var position: String
}

/// Records of one file, in order.
protocol RecordSource: AnyObject {
    var path: String { get }
    /// The next record; nil at the end of the file.
    func next() throws(ReadError) -> RawRecord?
}
