#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import SidecarCore
import Testing

@testable import SidecarSMTP

/// A channel error reaches the user in words: never NIO's own description of it.
@Suite struct ChannelErrorWordingTests {
    @Test(arguments: [
        (ECONNREFUSED, "connection refused"), (ETIMEDOUT, "timed out"), (EHOSTUNREACH, "host unreachable"),
        (ENETUNREACH, "network unreachable"), (ECONNRESET, "connection reset by the server"),
    ])
    func socketErrorsAreWordedWithoutNIOsDescription(code: CInt, words: String) {
        let io = IOError(errnoCode: code, reason: "connect")
        let error = SidecarError.smtpChannelError(io, host: "smtp.example.com")
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("(\(words))"), "\(error.message)")
        #expect(!error.message.contains("\(io)"), "NIO's description leaked: \(error.message)")
        #expect(!error.message.contains("IOError") && !error.message.contains("errno"), "\(error.message)")
    }

    @Test func channelErrorsAreWorded() {
        let closed = SidecarError.smtpChannelError(ChannelError.ioOnClosedChannel, host: "h")
        #expect(closed.message.contains("(connection closed)"), "\(closed.message)")
        let timeout = SidecarError.smtpChannelError(ChannelError.connectTimeout(.seconds(3)), host: "h")
        #expect(timeout.code == .timeout)
        let other = SidecarError.smtpChannelError(ChannelError.operationUnsupported, host: "h")
        #expect(other.message.contains("(connection error)") && !other.message.contains("operationUnsupported"))
    }
}
