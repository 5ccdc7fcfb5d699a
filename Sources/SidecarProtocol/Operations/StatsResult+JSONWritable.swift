extension StatsResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("uptime_ms", uptimeMs)
        writer.member("connections", connections)
        writer.member("requests", requests)
        if let pools { writer.member("pools", pools) }
        if let state { writer.member("state", state) }
        writer.endObject()
    }
}

extension StatsResult.StateStore: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("backend", backend)
        writer.member("available", available)
        if let schemaVersion { writer.member("schema_version", schemaVersion) }
        if let lastError { writer.member("last_error", lastError) }
        writer.endObject()
    }
}

extension StatsResult.Connections: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("open", open)
        writer.member("accepted", accepted)
        writer.member("refused", refused)
        writer.endObject()
    }
}

extension StatsResult.Requests: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("in_flight", inFlight)
        writer.member("total", total)
        writer.member("by_result", byResult)
        writer.member("by_operation", byOperation)
        writer.endObject()
    }
}

extension StatsResult.Pool: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("label", label)
        writer.member("open", open)
        writer.member("idle", idle)
        writer.member("leased", leased)
        writer.member("waiting", waiting)
        writer.member("connections_created", connectionsCreated)
        writer.member("reuses", reuses)
        writer.member("tls_handshakes", tlsHandshakes)
        writer.member("creation_failures", creationFailures)
        writer.member("discards", discards)
        writer.member("backoffs", backoffs)
        writer.member("failures_by_code", failuresByCode)
        writer.endObject()
    }
}
