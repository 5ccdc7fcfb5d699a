extension CredentialStatusResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("credentials", credentials)
        writer.endObject()
    }
}

extension CredentialStatusResult.Credential: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("id", id)
        writer.member("workspace_id", workspaceID)
        writer.member("label", label)
        writer.member("host", host)
        writer.member("port", port)
        writer.member("username", username)
        writer.member("last_success_at", lastSuccessAt)
        writer.member("last_error", lastError)
        writer.member("quota", quota)
        writer.member("pool", pool)
        writer.member("token", token)
        writer.endObject()
    }
}

extension CredentialStatusResult.LastError: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("code", code)
        writer.member("at", at)
        writer.member("message", message)
        writer.endObject()
    }
}

extension CredentialStatusResult.Quota: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("rate", rate)
        writer.member("daily", daily)
        writer.member("exhausted_until", exhaustedUntil)
        writer.endObject()
    }
}

extension CredentialStatusResult.Window: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("used", used)
        writer.member("limit", limit)
        writer.member("period_ms", periodMs)
        writer.member("resets_at", resetsAt)
        writer.endObject()
    }
}

extension CredentialStatusResult.Pool: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("pools", pools)
        writer.member("open", open)
        writer.member("idle", idle)
        writer.member("leased", leased)
        writer.member("waiting", waiting)
        writer.member("connections_created", connectionsCreated)
        writer.member("reuses", reuses)
        writer.member("creation_failures", creationFailures)
        writer.member("discards", discards)
        writer.member("backoffs", backoffs)
        writer.endObject()
    }
}

extension CredentialStatusResult.Token: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("expires_at", expiresAt)
        writer.member("last_refresh_error", lastRefreshError)
        writer.endObject()
    }
}
