import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import SidecarCore
import Testing

@testable import SidecarSMTP

/// The shell on an EmbeddedChannel: bytes in, bytes out, timers on the embedded clock.
@Suite struct SMTPClientHandlerTests {
    typealias F = Fixtures

    func tlsContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    func startTLSSession() throws -> EmbeddedSMTP {
        let smtp = try EmbeddedSMTP(.init(clientName: "client.test", security: .startTLS, timeouts: F.timeouts), tlsContext: tlsContext())
        try smtp.server("220 mx ESMTP\r\n")
        #expect(try smtp.client() == "EHLO client.test\r\n")
        try smtp.server("250-mx\r\n250 STARTTLS\r\n")
        #expect(try smtp.client() == "STARTTLS\r\n")
        return smtp
    }

    @Test func afterTheSTARTTLSReplyTheTLSHandlerGoesFirstAndTheHandshakeStarts() throws {
        let smtp = try startTLSSession()
        try smtp.server("220 2.0.0 Ready to start TLS\r\n")
        _ = try smtp.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
        let hello = try #require(try smtp.channel.readOutbound(as: ByteBuffer.self))
        #expect(hello.getInteger(at: hello.readerIndex, as: UInt8.self) == 0x16, "a TLS handshake record (ClientHello)")
        #expect(smtp.channel.isActive)
        _ = try? smtp.channel.finish()
    }

    @Test(arguments: ["250 injected\r\n", "250-partial", "x"])
    func bytesAfterTheSTARTTLSReplyAreRefused(injected: String) throws {
        let smtp = try startTLSSession()
        try smtp.server("220 2.0.0 Ready to start TLS\r\n" + injected)
        #expect(throws: (any Error).self) { try smtp.channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self) }
        #expect(!smtp.channel.isActive)
        #expect(try smtp.client() == "", "no ClientHello, nothing else")
        do {
            _ = try smtp.connected.value()
            Issue.record("connected")
        } catch let failure as SMTPFailure {
            #expect(failure.error.code == .starttlsUnavailable)
            #expect(failure.phase == .tls)
        }
    }

    @Test func greetingTimeoutFiresOnTheEventLoopClock() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        (smtp.channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .milliseconds(2999))
        #expect(!smtp.connected.isCompleted)
        (smtp.channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .milliseconds(1))
        do {
            _ = try smtp.connected.value()
            Issue.record("connected")
        } catch let failure as SMTPFailure {
            #expect(failure.error.code == .timeout)
            #expect(failure.phase == .greeting)
            #expect(failure.error.message.contains("3 seconds"))
        }
        #expect(!smtp.channel.isActive)
    }

    /// The phase timer is kept lazily (one scheduled task, rescheduled when it runs early):
    /// a later deadline must not fire at the earlier task's time.
    @Test func aTimerReArmedForLaterFiresAtTheLaterDeadline() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        let loop = smtp.channel.eventLoop as! EmbeddedEventLoop
        loop.advanceTime(by: .milliseconds(2500))
        try smtp.server("220 mx\r\n")
        #expect(try smtp.client().hasPrefix("EHLO "))
        loop.advanceTime(by: .milliseconds(3900))  // 6.4 s: past the greeting's 3 s, inside EHLO's 4 s
        #expect(!smtp.connected.isCompleted)
        #expect(smtp.channel.isActive)
        loop.advanceTime(by: .milliseconds(100))
        do {
            _ = try smtp.connected.value()
            Issue.record("connected")
        } catch let failure as SMTPFailure {
            #expect(failure.error.code == .timeout)
            #expect(failure.phase == .ehlo)
        }
        #expect(!smtp.channel.isActive)
    }

    /// ...and a deadline earlier than the scheduled task's must fire on time: after a send
    /// whose last timer ran to 9 s, the next MAIL times out after its own 5 s.
    @Test func aTimerReArmedForEarlierFiresAtTheEarlierDeadline() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        let loop = smtp.channel.eventLoop as! EmbeddedEventLoop
        try smtp.server("220 mx\r\n250 mx\r\n")
        _ = try smtp.connected.value()
        _ = try smtp.client()
        let first = smtp.startTransaction(F.request(["a@example.com"], size: nil))
        try smtp.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = try first.value()
        _ = try smtp.writeBody("hi\r\n").value()
        let final = smtp.finishBody()
        // 3.5 s into the final reply's 9 s: the task first scheduled for the greeting's 3 s
        // has run and moved to 9 s.
        loop.advanceTime(by: .milliseconds(3500))
        try smtp.server("250 2.0.0 Ok: queued as Q1\r\n")
        guard case .finished(.sent) = try final.value() else {
            Issue.record("not sent")
            return
        }
        _ = try smtp.client()
        _ = smtp.startTransaction(F.request(["b@example.com"], size: nil))
        #expect(try smtp.client().hasPrefix("MAIL FROM:"))
        loop.advanceTime(by: .milliseconds(4900))
        #expect(smtp.channel.isActive, "MAIL's 5 s have not passed")
        loop.advanceTime(by: .milliseconds(100))
        #expect(!smtp.channel.isActive, "MAIL timed out after 5 s, not at the 9 s task")
    }

    @Test func aMessageIsStreamedDotStuffedAndEndedWithTheFinalDot() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        try smtp.server("220 mx\r\n")
        try smtp.server("250-mx\r\n250 PIPELINING\r\n")
        _ = try smtp.connected.value()
        _ = try smtp.client()
        let start = smtp.startTransaction(F.request(["a@example.com"], size: nil))
        #expect(try smtp.client() == "MAIL FROM:<from@example.com>\r\nRCPT TO:<a@example.com>\r\nDATA\r\n")
        try smtp.server("250 ok\r\n250 ok\r\n354 go\r\n")
        guard case .streamBody = try start.value() else {
            Issue.record("not streaming")
            return
        }
        _ = try smtp.writeBody("Subject: x\r\n\r\n.hidden\r\n").value()
        let final = smtp.finishBody()
        #expect(try smtp.client() == "Subject: x\r\n\r\n..hidden\r\n.\r\n")
        try smtp.server("250 2.0.0 Ok: queued as Q1\r\n")
        guard case .finished(.sent(let delivery)) = try final.value() else {
            Issue.record("not sent")
            return
        }
        #expect(delivery.reply.text == "Ok: queued as Q1")
        #expect(smtp.status.snapshot.messagesSent == 1)
        #expect(smtp.status.snapshot.isUsable)
    }

    @Test func noFinalReplyWithinTheTimeoutMayHaveBeenSentAndClosesTheConnection() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        try smtp.server("220 mx\r\n250 mx\r\n")
        _ = try smtp.connected.value()
        let start = smtp.startTransaction(F.request(["a@example.com"], size: nil))
        try smtp.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = try start.value()
        _ = try smtp.writeBody("hi\r\n").value()
        let final = smtp.finishBody()
        (smtp.channel.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(9))
        guard case .finished(.mayHaveBeenSent(let failure)) = try final.value() else {
            Issue.record("expected mayHaveBeenSent")
            return
        }
        #expect(failure.error.code == .outcomeUnknown)
        #expect(!smtp.channel.isActive)
        #expect(!smtp.status.snapshot.isUsable)
    }

    @Test func aLostConnectionDuringTheBodyRefusesFurtherWritesAndIsNotSent() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        try smtp.server("220 mx\r\n250 mx\r\n")
        _ = try smtp.connected.value()
        let start = smtp.startTransaction(F.request(["a@example.com"], size: nil))
        try smtp.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = try start.value()
        _ = try smtp.writeBody("part one\r\n").value()
        smtp.channel.pipeline.fireChannelInactive()
        #expect(throws: SMTPClientHandler.BodyWriteRefused.self) { try smtp.writeBody("part two\r\n").value() }
        let promise = smtp.channel.eventLoop.makePromise(of: SMTPClientHandler.TransactionProgress.self)
        smtp.handler.abortBody(SidecarError(code: .internalError, message: "x"), promise: promise)
        guard case .finished(.notSent(let failure)) = try promise.futureResult.value() else {
            Issue.record("expected notSent")
            return
        }
        #expect(failure.error.code == .connectionFailed)
        #expect(failure.phase == .data)
    }

    @Test func malformedReplyIsAProtocolErrorAndCloses() throws {
        let smtp = try EmbeddedSMTP(.init(security: .plaintext, timeouts: F.timeouts))
        try smtp.server("HTTP/1.1 400 Bad Request\r\n")
        do {
            _ = try smtp.connected.value()
            Issue.record("connected")
        } catch let failure as SMTPFailure {
            #expect(failure.error.code == .protocolViolation)
            #expect(failure.phase == .greeting)
        }
        #expect(!smtp.channel.isActive)
    }
}
