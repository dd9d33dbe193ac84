import Crypto

/// The refresh-token keys. The file holds one key per line, `base64` (version 1) or `version:base64`; the
/// last line is the key new tokens are sealed with, every line can open old ones. A stored token is
/// version byte ‖ AES-256-GCM box, with the row's email as associated data, so a ciphertext copied to
/// another row does not decrypt.
public struct TokenKeyRing: Sendable {
    public let currentVersion: UInt8
    private let currentKey: [UInt8]
    private let keys: [UInt8: [UInt8]]

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case malformedLine(Int)
        case wrongKeyLength(line: Int, bytes: Int)
        case empty

        public var description: String {
            switch self {
            case .malformedLine(let line): return "line \(line) is not base64 or version:base64"
            case .wrongKeyLength(let line, let bytes): return "line \(line) holds \(bytes) bytes, a key is 32"
            case .empty: return "no key"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        var keys: [UInt8: [UInt8]] = [:]
        var current: UInt8?
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.filter { $0 != " " && $0 != "\t" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            var version: UInt8 = 1
            var encoded = Substring(line)
            if let colon = line.firstIndex(of: ":") {
                guard let parsed = UInt8(line[..<colon]), parsed > 0 else { throw .malformedLine(index + 1) }
                version = parsed
                encoded = line[line.index(after: colon)...]
            }
            guard let key = Base64.decode(String(encoded)) else { throw .malformedLine(index + 1) }
            guard key.count == AESGCM.keyLength else { throw .wrongKeyLength(line: index + 1, bytes: key.count) }
            keys[version] = key
            current = version
        }
        guard let current, let currentKey = keys[current] else { throw .empty }
        self.keys = keys
        self.currentVersion = current
        self.currentKey = currentKey
    }

    public func seal(_ token: String, email: String) throws(CryptoError) -> [UInt8] {
        let box = try AESGCM.seal(Array(token.utf8), key: currentKey, associatedData: Array(email.utf8))
        return [currentVersion] + box
    }

    public func open(_ stored: [UInt8], email: String) throws(CryptoError) -> String {
        guard let version = stored.first, let key = keys[version] else {
            throw .malformedInput("unknown key version")
        }
        let plaintext = try AESGCM.open(Array(stored.dropFirst()), key: key, associatedData: Array(email.utf8))
        return String(decoding: plaintext, as: UTF8.self)
    }
}
