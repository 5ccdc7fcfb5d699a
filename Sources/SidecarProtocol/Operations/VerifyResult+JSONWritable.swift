extension VerifyResult: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("ok", ok)
        writer.member("security", security)
        writer.member("server", server)
        writer.member("auth_mechanisms", authMechanisms)
        writer.member("capabilities", capabilities)
        writer.endObject()
    }
}
