import JSON
import Platform

/// An S3 export as AWS writes it (`AWSDynamoDB/<export id>/`): `manifest-summary.json` names the table
/// (`tableArn`) and the format, `manifest-files.json` lists the data files (one JSON object per line with
/// `dataFileS3Key` and `itemCount`), and `data/*.json.gz` hold the items.
enum ExportManifest {
    static let summaryName = "manifest-summary.json"
    static let filesName = "manifest-files.json"

    /// The data files of the export in `directory`, in the manifest's order.
    static func sources(directory: String) throws(ReadError) -> [ExportSource] {
        let summaryPath = directory + "/" + summaryName
        let summary = try readJSON(summaryPath)
        guard summary.objectValue != nil else { throw ReadError(summaryPath, "not a JSON object") }
        if let format = summary["outputFormat"].stringValue, format != "DYNAMODB_JSON" {
            throw ReadError(summaryPath, "the export is in \(format); export the table again with the DynamoDB JSON format")
        }
        if let type = summary["exportType"].stringValue, type != "FULL_EXPORT" {
            throw ReadError(summaryPath, "an \(type) holds changes, not the table; export the whole table (FULL_EXPORT)")
        }
        var table: ExportTable?
        if let arn = summary["tableArn"].stringValue {
            let name = tableName(arn: arn)
            guard let known = ExportTable(tableName: name) else {
                throw ReadError(summaryPath, "the export is of table \"\(name)\", not one of \(ExportTable.knownNames)")
            }
            table = known
        }
        let filesPath = directory + "/" + filesName
        let lines: [Substring]
        do {
            lines = try Files.readString(filesPath).split(whereSeparator: \.isNewline)
        } catch {
            throw ReadError(filesPath, error.reason)
        }
        var sources: [ExportSource] = []
        for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == " " || $0 == "\t" }) {
            guard let entry = try? JSONParser.parse(String(line)), let key = entry["dataFileS3Key"].stringValue,
                  let name = key.split(separator: "/").last, !name.isEmpty else {
                throw ReadError(filesPath, "line \(number + 1) does not name a data file (dataFileS3Key)")
            }
            // The key is the object's name in the bucket (with the export prefix); the file is in data/ here.
            let path = directory + "/data/" + name
            guard Files.exists(path) else {
                throw ReadError(path, "listed in \(filesName) but missing: download the whole export folder")
            }
            sources.append(ExportSource(path: path, format: .lines, table: table, expectedItems: entry["itemCount"].intValue))
        }
        return sources
    }

    /// `arn:aws:dynamodb:us-east-1:123456789012:table/xomify-users` → `xomify-users`.
    static func tableName(arn: String) -> String {
        guard let range = arn.firstRange(of: ":table/") else { return arn }
        return String(arn[range.upperBound...].prefix { $0 != "/" })
    }

    private static func readJSON(_ path: String) throws(ReadError) -> JSON {
        let bytes: [UInt8]
        do { bytes = try Files.read(path, limit: 1 << 20) } catch { throw ReadError(path, error.reason) }
        do { return try JSONParser.parse(bytes) } catch { throw ReadError(path, "not JSON: \(error)") }
    }
}
