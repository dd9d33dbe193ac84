/// The one trimming helper: every module that cleans up text from a file, a header or a server message uses it.
extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs, line ends; "\r\n" is one Character).
    public func trimmed() -> String {
        String(trimmedSlice())
    }

    /// The same, as a slice of this text (no copy: for hot paths that only compare).
    public func trimmedSlice() -> SubSequence {
        guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }

    /// The text trimmed and folded onto one line (line breaks inside become spaces): for messages of other
    /// programs quoted in our own one-line errors.
    public func singleLine() -> String {
        String(trimmed().map { $0.isNewline ? " " : $0 })
    }
}
