import NIOCore

/// Encodes a command as its line and CRLF. The only place AUTH secrets are revealed.
struct SMTPCommandEncoder: MessageToByteEncoder {
    typealias OutboundIn = SMTPCommand

    func encode(data: SMTPCommand, out: inout ByteBuffer) {
        out.writeString(data.wireLine)
        out.writeStaticString("\r\n")
    }

    /// Several commands in one buffer: a pipelined group goes out in one write.
    func encode(_ commands: [SMTPCommand], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: commands.count * 64)
        for command in commands { encode(data: command, out: &buffer) }
        return buffer
    }
}
