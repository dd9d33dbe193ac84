/// The one trimming helper: every module that cleans up text from a file, a header or a server message uses it.
extension StringProtocol {
    /// The text without leading and trailing white space: the scalars with Unicode's White_Space property
    /// (spaces, tabs, line ends, no-break and ideographic spaces). Scalars, not Characters: a combining mark after
    /// a leading space belongs to the text, not to the space.
    public func trimmed() -> String {
        String(trimmedSlice())
    }

    /// The same, as a slice of this text (no copy: for hot paths that only compare).
    public func trimmedSlice() -> SubSequence {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }

    /// The text trimmed and folded onto one line (line breaks inside become spaces): for messages of other
    /// programs quoted in our own one-line errors.
    public func singleLine() -> String {
        String(trimmed().map { $0.isNewline ? " " : $0 })
    }
}
