/// One file to read: a data file of an S3 export (one item per line) or a scan page (`{"Items": […]}`).
struct ExportSource: Sendable {
    enum Format: Sendable {
        /// An S3 export's data file, `{"Item": {…}}` per line.
        case lines
        /// The output of `aws dynamodb scan --output json`.
        case scanPage
        /// A file named on the command line alone: its first member name tells (`Item` or not).
        case unknown
    }

    let path: String
    var format: Format
    /// The table named by the export's manifest; nil when the items' keys must tell.
    var table: ExportTable?
    /// The number of items the manifest lists for this file, checked once it is read.
    var expectedItems: Int?

    /// The nesting of an item's attributes in a record of this format.
    static func attributeDepth(_ format: Format) -> Int {
        format == .lines ? 2 : 1
    }
}
