/// Whether the bytes a connection has sent so far (read with MSG_PEEK, so nothing is consumed) hold a whole
/// FastCGI request: its FCGI_BEGIN_REQUEST, its parameters up to their empty closing record and its body up to
/// the empty closing FCGI_STDIN record. The pool hands a connection to a responder thread (and to libfcgi's
/// blocking reads) only once this says `complete`, so a connection that sends part of a request holds no thread.
public enum RequestScan: Equatable, Sendable {
    /// The whole request is there: reading it will not block.
    case complete
    /// More is to come.
    case incomplete
    /// Not a request libfcgi can read (another protocol version, a record for another request before ours):
    /// let libfcgi read it, fail and close the connection.
    case unreadable

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
        while bytes.count - offset >= headerLength {
            guard bytes[offset] == version else { return .unreadable }
            let type = bytes[offset + 1]
            let id = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let length = Int(bytes[offset + 4]) << 8 | Int(bytes[offset + 5])
            let padding = Int(bytes[offset + 6])
            let next = offset + headerLength + length + padding
            guard next <= bytes.count else { return .incomplete }
            defer { offset = next }
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
}
