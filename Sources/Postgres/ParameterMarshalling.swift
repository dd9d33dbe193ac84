#if canImport(Glibc)
import Glibc
#endif

/// Query parameters laid out as libpq wants them: C strings (text) or counted bytes (binary), with formats.
func withParameters<R>(_ parameters: [any PostgresEncodable],
                       _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
                                UnsafePointer<Int32>?) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    pointers.reserveCapacity(parameters.count)
    for parameter in parameters {
        switch parameter.postgresValue {
        case .null:
            pointers.append(nil)
            lengths.append(0)
            formats.append(0)
        case .text(let text):
            pointers.append(strdup(text))
            lengths.append(0)
            formats.append(0)
        case .binary(let bytes):
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { buffer.update(from: base.assumingMemoryBound(to: CChar.self), count: bytes.count) }
            }
            pointers.append(buffer)
            lengths.append(Int32(bytes.count))
            formats.append(1)
        }
    }
    defer { pointers.forEach { free($0) } }
    if pointers.isEmpty { return body(0, nil, nil, nil) }
    return pointers.withUnsafeBufferPointer { values in
        // A non-empty array's buffer always has a base address.
        values.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: values.count) { rebound in
            body(Int32(parameters.count), rebound, lengths, formats)
        }
    }
}

/// A NULL-terminated array of C strings, for libpq's keyword/value connection parameters.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        // Never empty (the terminating nil), so the base address exists.
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}
