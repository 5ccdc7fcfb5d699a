extension PingResult: JSONWritable {
    package func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pong", pong)
        writer.member("data", data)
        writer.endObject()
    }
}
