extension NoParams: JSONWritable {
    /// `{}`.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.endObject()
    }
}
