/// Whether the bytes a connection has sent so far (read with MSG_PEEK, so nothing is consumed) hold a whole
/// FastCGI request: its FCGI_BEGIN_REQUEST, its parameters up to their empty closing record and its body up to
/// the empty closing FCGI_STDIN record. The pool hands a connection to a responder thread (and to libfcgi's
/// blocking reads) only once this says `complete`, so a connection that sends part of a request holds no thread.
public enum RequestScan: Equatable, Sendable {
    /// The whole request is there: reading it will not block.
    case complete
    /// More is to come.
    case incomplete
    /// Not a request libfcgi can read (another protocol version, a record for another request before ours, a
    /// request id of 0): let libfcgi read it, fail and close the connection.
    case unreadable
    /// A parameter declares a name or value longer than `largestParameter`: never served, and never given to
    /// libfcgi, whose allocation checks abort the process on lengths near 2^31.
    case refused

    /// The longest parameter (name and value together) a request may declare.
    public static let largestParameter = 8 << 20

    private static let headerLength = 8
    private static let version: UInt8 = 1
    private static let beginRequest: UInt8 = 1
    private static let params: UInt8 = 4
    private static let stdin: UInt8 = 5

    /// Scans `bytes`, the start of what the connection has sent.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> RequestScan {
        var offset = 0
        var requestID: Int?
        var parametersEnded = false
        var parameters = ParameterLengths()
        while bytes.count - offset >= headerLength {
            guard bytes[offset] == version else { return .unreadable }
            let type = bytes[offset + 1]
            let id = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let length = Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5])
            let padding = Int(bytes[offset + 6])
            let content = offset + headerLength
            // A parameter's declared lengths are checked as soon as they are there, even in a partial record.
            if type == params, id == requestID, !parametersEnded {
                let available = min(length, bytes.count - content)
                if !parameters.consume(UnsafeRawBufferPointer(rebasing: bytes[content..<content + available])) {
                    return .refused
                }
            }
            let next = content + length + padding
            guard next <= bytes.count else { return .incomplete }
            defer { offset = next }
            if type == beginRequest && id == 0 { return .unreadable }
            // Management records (id 0) and records of other requests are libfcgi's business, not ours.
            guard id != 0 else { continue }
            switch type {
            case beginRequest where requestID == nil:
                requestID = id
            case params where id == requestID && length == 0:
                parametersEnded = true
            case stdin where id == requestID && length == 0:
                return parametersEnded ? .complete : .unreadable
            default:
                if requestID == nil { return .unreadable }
            }
        }
        return .incomplete
    }

    /// Walks the name-value pairs of the parameter stream (FastCGI 1.0 §3.4: each length is one byte, or four with
    /// the top bit set) across records, checking each pair's declared size.
    private struct ParameterLengths {
        /// Bytes of the current pair's name and value still to skip.
        var skip = 0
        /// The bytes of the current pair's two lengths read so far.
        var header: [UInt8] = []

        /// Consumes one record's content (or the part of it that is there: the last record scanned); false for a
        /// pair over the limit.
        mutating func consume(_ content: UnsafeRawBufferPointer) -> Bool {
            var index = 0
            while index < content.count {
                if skip > 0 {
                    let step = min(skip, content.count - index)
                    skip -= step
                    index += step
                    continue
                }
                header.append(content[index])
                index += 1
                guard let (name, value) = lengths() else { continue }
                header.removeAll()
                guard name + value <= RequestScan.largestParameter else { return false }
                skip = name + value
            }
            return true
        }

        /// The two lengths, once `header` holds them.
        private func lengths() -> (Int, Int)? {
            func length(at index: Int) -> (value: Int, size: Int)? {
                guard index < header.count else { return nil }
                guard header[index] & 0x80 != 0 else { return (Int(header[index]), 1) }
                guard index + 4 <= header.count else { return nil }
                let value = Int(header[index] & 0x7f) << 24 | Int(header[index + 1]) << 16
                    | Int(header[index + 2]) << 8 | Int(header[index + 3])
                return (value, 4)
            }
            guard let name = length(at: 0), let value = length(at: name.size),
                  header.count == name.size + value.size else { return nil }
            return (name.value, value.value)
        }
    }
}
