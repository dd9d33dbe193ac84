import Platform
import Text

/// Secrets, read from files: the systemd credentials directory when set, else the path a setting names.
/// Messages name the credential or the path, never the content.
public struct Secrets: Sendable {
    private let configuration: Configuration
    private let credentialsDirectory: String?
    /// Contents already read, by credential name (a snapshot's); nil: read the files.
    private let preloaded: [String: String]?

    public init(configuration: Configuration, environment: [String: String]) {
        self.configuration = configuration
        self.credentialsDirectory = environment["CREDENTIALS_DIRECTORY"]
        preloaded = nil
    }

    /// The secrets of a snapshot, as its maker read them.
    public init(snapshot: ConfigurationSnapshot) {
        configuration = snapshot.configuration
        credentialsDirectory = nil
        preloaded = snapshot.secrets
    }

    /// The trimmed content of a secret file.
    public func read(credential: String, pathSetting: Setting) throws(ConfigurationError) -> String {
        if let preloaded {
            guard let text = preloaded[credential] else {
                throw ConfigurationError(pathSetting.name, "required (\(pathSetting.meaning))")
            }
            return text
        }
        var path: String? = nil
        if let directory = credentialsDirectory, Files.exists("\(directory)/\(credential)") {
            path = "\(directory)/\(credential)"
        } else if let configured = configuration.string(pathSetting), !configured.isEmpty {
            path = configured
        }
        guard let path else {
            throw ConfigurationError(pathSetting.name, "required (\(pathSetting.meaning))")
        }
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path, limit: 64 << 10)
        } catch {
            throw ConfigurationError(pathSetting.name, "cannot read secret file \(path): \(error.reason)")
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmed()
        guard !text.isEmpty else { throw ConfigurationError(pathSetting.name, "secret file \(path) is empty") }
        return text
    }

    /// The HS256 signing secret: at least 32 bytes.
    public func jwtSecret() throws(ConfigurationError) -> [UInt8] {
        let secret = try read(credential: "jwt-secret", pathSetting: Settings.jwtSecretFile)
        guard secret.utf8.count >= 32 else {
            throw ConfigurationError(Settings.jwtSecretFile.name,
                                     "the JWT secret must be at least 32 bytes, the file holds \(secret.utf8.count)")
        }
        return Array(secret.utf8)
    }

    /// The Spotify client secret.
    public func spotifyClientSecret() throws(ConfigurationError) -> String {
        try read(credential: "spotify-client-secret", pathSetting: Settings.spotifyClientSecretFile)
    }

    /// The refresh-token keys text (`base64` or `version:base64` lines); parsed by the store's key ring.
    public func tokenKeys() throws(ConfigurationError) -> String {
        try read(credential: "token-key", pathSetting: Settings.tokenKeyFile)
    }
}
