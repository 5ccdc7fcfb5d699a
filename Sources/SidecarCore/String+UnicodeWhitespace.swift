extension String {
    /// The string without leading and trailing Unicode whitespace (line ends, no-break
    /// spaces and the like, not only the spaces and tabs SidecarMessage's
    /// `trimmingWhitespace()` removes from addresses): a configuration file's values.
    public func trimmingUnicodeWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
