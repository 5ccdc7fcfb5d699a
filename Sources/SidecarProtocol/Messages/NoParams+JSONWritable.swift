extension NoParams: JSONWritable {
    /// `{}`.
    package func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.endObject()
    }
}
