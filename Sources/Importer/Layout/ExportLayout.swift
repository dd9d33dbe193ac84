import Platform

/// What the command line's PATHs name, as files to read. A PATH may be an S3 export's folder
/// (`AWSDynamoDB/<export id>`), the `AWSDynamoDB` folder holding several exports (or a folder above it), one of an
/// export's manifests, a scan page, or a folder of scan pages (`*.json`, `*.json.gz`). Every PATH is resolved
/// before anything is imported, so that a typo or a half-downloaded export stops the run before it starts.
enum ExportLayout {
    static func sources(_ paths: [String]) throws(ReadError) -> [ExportSource] {
        var sources: [ExportSource] = []
        var seen = Set<String>()
        for path in paths {
            let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
            // A file named twice (an export and the folder holding it) is read once.
            for source in try resolve(trimmed) where seen.insert(source.path).inserted {
                sources.append(source)
            }
        }
        return sources
    }

    private static func resolve(_ path: String) throws(ReadError) -> [ExportSource] {
        guard Files.exists(path) else { throw ReadError(path, "no such file or directory") }
        if !Files.isDirectory(path) {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            if name == ExportManifest.summaryName || name == ExportManifest.filesName {
                return try ExportManifest.sources(directory: parent(path))
            }
            return [ExportSource(path: path, format: .unknown)]
        }
        if Files.exists(path + "/" + ExportManifest.summaryName) {
            return try ExportManifest.sources(directory: path)
        }
        let names: [String]
        do { names = try Files.list(path) } catch { throw ReadError(path, error.reason) }
        // A folder of exports: AWSDynamoDB/ itself, or a folder holding AWSDynamoDB/.
        let exports = names.filter { Files.exists("\(path)/\($0)/\(ExportManifest.summaryName)") }
        if !exports.isEmpty {
            var sources: [ExportSource] = []
            for name in exports { sources += try ExportManifest.sources(directory: "\(path)/\(name)") }
            return sources
        }
        if names.contains("AWSDynamoDB") && Files.isDirectory(path + "/AWSDynamoDB") {
            return try resolve(path + "/AWSDynamoDB")
        }
        let pages = names.filter { ($0.hasSuffix(".json") || $0.hasSuffix(".json.gz")) && !Files.isDirectory("\(path)/\($0)") }
        guard !pages.isEmpty else {
            throw ReadError(path, "holds no export (\(ExportManifest.summaryName)) and no scan page (*.json, *.json.gz)")
        }
        return pages.map { ExportSource(path: "\(path)/\($0)", format: .unknown) }
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
