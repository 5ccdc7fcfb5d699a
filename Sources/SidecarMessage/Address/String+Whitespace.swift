extension String {
    /// The string without leading and trailing spaces and tabs, the blanks a pasted or
    /// hand-typed value carries around it (addresses, file names, SMTP host names). The
    /// string itself when there are none, which is the common case.
    public func trimmingWhitespace() -> String {
        let utf8 = utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isBlank($0) }), let last = utf8.lastIndex(where: { !isBlank($0) })
        else { return "" }
        if first == utf8.startIndex, last == utf8.index(before: utf8.endIndex) { return self }
        // By scalars, not characters: a combining mark after a leading blank stays.
        return String(unicodeScalars[first...last])
    }
}
