import NIOCore

/// Encodes a command as its line and CRLF. The only place AUTH secrets are revealed.
struct SMTPCommandEncoder: MessageToByteEncoder {
    typealias OutboundIn = SMTPCommand

    func encode(data: SMTPCommand, out: inout ByteBuffer) {
        // The transaction's commands go straight into the buffer; only the rare ones
        // (EHLO, AUTH) build their line as a string first.
        switch data {
        case .mail(let path, let parameters):
            out.writeStaticString("MAIL FROM:<")
            out.writeString(path)
            out.writeStaticString(">")
            write(parameters, to: &out)
        case .rcpt(let path, let parameters):
            out.writeStaticString("RCPT TO:<")
            out.writeString(path)
            out.writeStaticString(">")
            write(parameters, to: &out)
        case .bdat(let size, let last):
            out.writeStaticString("BDAT ")
            out.writeString(String(size))
            if last { out.writeStaticString(" LAST") }
        case .data: out.writeStaticString("DATA")
        case .endOfData: out.writeStaticString(".")
        case .rset: out.writeStaticString("RSET")
        case .noop: out.writeStaticString("NOOP")
        case .quit: out.writeStaticString("QUIT")
        case .ehlo, .helo, .startTLS, .auth, .authResponse:
            out.writeString(data.wireLine)
        }
        out.writeStaticString("\r\n")
    }

    /// Several commands in one buffer: a pipelined group goes out in one write.
    func encode(_ commands: [SMTPCommand], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: commands.count * 64)
        for command in commands { encode(data: command, out: &buffer) }
        return buffer
    }

    private func write(_ parameters: [String], to out: inout ByteBuffer) {
        for parameter in parameters {
            out.writeStaticString(" ")
            out.writeString(parameter)
        }
    }
}
