import SidecarCore

extension SendResult.Recipient: JSONWritable {
    public func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("address", address)
        writer.member("accepted", accepted)
        writer.member("smtp", smtp)
        writer.endObject()
    }
}
