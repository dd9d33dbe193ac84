import HTTP
import Text

/// Strong entity tags computed from the revisions behind an answer, so that a matching `If-None-Match` is
/// answered 304 before the body is read or built.
enum ETag {
    /// `"<16 hex digits>"` of a 64-bit FNV-1a hash of the parts.
    static func make(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            hash ^= 0x1f
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"" + ZeroPadding.pad(hash, 16, radix: 16) + "\""
    }

    /// True when `If-None-Match` lists `tag` (weak comparison, as RFC 9110 prescribes for this header) or is `*`.
    /// Byte by byte (this runs for every revalidation): members are separated by commas and optional white space.
    static func matches(_ request: HTTPRequest, _ tag: String) -> Bool {
        guard let header = request.header("if-none-match") else { return false }
        let bytes = header.utf8
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ",")) ?? bytes.endIndex
            var member = bytes[start..<end].drop { isSpace($0) }
            while let last = member.last, isSpace(last) { member = member.dropLast() }
            if member.elementsEqual("*".utf8) { return true }
            if member.starts(with: "W/".utf8) { member = member.dropFirst(2) }
            if member.elementsEqual(tag.utf8) { return true }
            start = end < bytes.endIndex ? bytes.index(after: end) : end
        }
        return false
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }
}

extension HTTPResponse {
    /// 200 with a JSON body and, for user data, its ETag.
    static func okJSON(_ body: [UInt8], etag: String?) -> HTTPResponse {
        var response = HTTPResponse.json(200, body)
        if let etag { response.setHeader("ETag", etag) }
        return response
    }

    /// 304: the client's copy is current; no body.
    static func notModified(_ etag: String) -> HTTPResponse {
        HTTPResponse(status: 304, headers: [("ETag", etag)])
    }
}
