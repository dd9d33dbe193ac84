/// A setting that stops the program at start. The message is one line naming the setting; it never holds a
/// secret (secrets are only ever read from files, and only file paths are named).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let setting: String
    public let problem: String

    public init(_ setting: String, _ problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "\(setting): \(problem)" }
}
