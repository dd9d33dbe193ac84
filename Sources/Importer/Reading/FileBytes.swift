import Platform

/// The bytes of one file, in chunks, decompressed on the way when the file is gzip (known by its magic bytes,
/// whatever its name: AWS names its data files `.json.gz`, an operator may have unpacked some).
final class FileBytes {
    let path: String
    private let reader: FileReader
    private var decoder: GzipDecoder?
    /// The first chunk, read to look for the magic bytes, handed out first.
    private var pending: [UInt8]?
    let isGzip: Bool

    init(path: String) throws(ReadError) {
        self.path = path
        do {
            reader = try FileReader(path: path)
            let first = try reader.read()
            isGzip = first.count >= 2 && first[0] == 0x1F && first[1] == 0x8B
            pending = first
        } catch {
            throw ReadError(path, error.reason)
        }
        if isGzip {
            var first = pending
            pending = nil
            let reader = self.reader
            decoder = GzipDecoder { () throws(GzipError) -> [UInt8] in
                if let chunk = first {
                    first = nil
                    return chunk
                }
                do { return try reader.read() } catch { throw .read("\(error)") }
            }
        }
    }

    /// The first bytes of the (decompressed) content, still to be handed out by `next()` (to tell a data file
    /// from a scan page).
    func peek() throws(ReadError) -> [UInt8] {
        if let peeked { return peeked }
        let chunk = try next()
        peeked = chunk
        return chunk
    }

    private var peeked: [UInt8]?

    /// The next bytes of the (decompressed) content; empty at its end.
    func next() throws(ReadError) -> [UInt8] {
        if let chunk = peeked {
            peeked = nil
            return chunk
        }
        if let decoder {
            do { return try decoder.next() } catch { throw ReadError(path, error.description) }
        }
        if let chunk = pending {
            pending = nil
            return chunk
        }
        do { return try reader.read() } catch { throw ReadError(path, error.reason) }
    }
}
