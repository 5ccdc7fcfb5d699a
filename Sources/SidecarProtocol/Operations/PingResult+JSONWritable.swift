extension PingResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pong", pong)
        writer.member("data", data)
        writer.endObject()
    }
}
