extension HelloResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("version", version)
        writer.member("server", server)
        writer.member("server_version", serverVersion)
        writer.member("operations", operations)
        writer.member("limits", limits)
        writer.endObject()
    }
}

extension HelloResult.Limits: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("max_frame_bytes", maxFrameBytes)
        writer.member("max_in_flight", maxInFlight)
        writer.member("idle_timeout_ms", idleTimeoutMs)
        writer.endObject()
    }
}
