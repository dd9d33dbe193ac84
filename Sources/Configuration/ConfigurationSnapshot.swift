import Text

/// A configuration as it was loaded and checked, with the secrets it names, in a form a process hands to its
/// children: the pool's supervisor loads and validates, and its workers start from the snapshot instead of
/// reading the files again, so a file broken after the last good load never reaches a worker (SPEC §2: a reload
/// whose configuration does not load keeps the old workers; a worker replaced after a crash starts with the last
/// configuration that loaded).
///
/// Text, one entry per line: `setting<TAB>NAME<TAB>value` and `secret<TAB>credential<TAB>content`, with
/// backslash, tab and line breaks escaped.
public struct ConfigurationSnapshot: Sendable {
    public let configuration: Configuration
    public let secrets: [String: String]

    public init(configuration: Configuration, secrets: [String: String]) {
        self.configuration = configuration
        self.secrets = secrets
    }

    /// Why a snapshot could not be read back.
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public func encoded() -> [UInt8] {
        var text = ""
        for (name, value) in configuration.explicitValues.sorted(by: { $0.key < $1.key }) {
            text += "setting\t\(name)\t\(ConfigurationSnapshot.escape(value))\n"
        }
        for (credential, content) in secrets.sorted(by: { $0.key < $1.key }) {
            text += "secret\t\(credential)\t\(ConfigurationSnapshot.escape(content))\n"
        }
        return Array(text.utf8)
    }

    public init(decoding bytes: [UInt8]) throws(Malformed) {
        var values: [String: String] = [:]
        var secrets: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { throw Malformed(description: "a snapshot line has \(fields.count) fields") }
            let value = ConfigurationSnapshot.unescape(fields[2])
            switch fields[0] {
            case "setting": values[String(fields[1])] = value
            case "secret": secrets[String(fields[1])] = value
            default: throw Malformed(description: "unknown snapshot entry \(fields[0].prefix(16))")
            }
        }
        do {
            configuration = try Configuration(snapshotValues: values)
        } catch {
            throw Malformed(description: error.description)
        }
        self.secrets = secrets
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    private static func unescape(_ text: Substring) -> String {
        var out = ""
        var escaping = false
        for character in text.unicodeScalars {
            if escaping {
                switch character {
                case "t": out += "\t"
                case "n": out += "\n"
                case "r": out += "\r"
                default: out.unicodeScalars.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
