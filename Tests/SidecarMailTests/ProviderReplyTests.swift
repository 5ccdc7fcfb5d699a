import SidecarCore
import Testing

@testable import SidecarMail

/// The providers' documented replies get their own codes; others keep theirs.
@Suite struct ProviderReplyTests {
    static func refused(_ code: Int, _ enhanced: String?, _ text: String, as original: ErrorCode = .messageRejected) -> SidecarError {
        let reply = SMTPReply(code: code, enhancedCode: enhanced, text: text)
        return SidecarError(code: original, message: "refused", retryable: reply.isTransientFailure, field: nil, smtp: reply)
    }

    @Test(arguments: [
        (454, nil, "Throttling failure: Maximum sending rate exceeded.", ErrorCode.throttled, 1_000),
        (454, nil, "Throttling failure: Daily message quota exceeded.", .quotaExceeded, 3_600_000),
        (550, "5.4.5", "Daily user sending limit exceeded. For more information on Gmail sending limits go to", .quotaExceeded,
         3_600_000),
        (421, "4.7.0", "Try again later, closing connection. (EHLO) s1-20020a.16 - gsmtp", .throttled, 60_000),
        (454, "4.7.0", "Too many login attempts, please try again later. s1-20020a.16 - gsmtp", .throttled, 60_000),
        (432, "4.3.2", "Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending", .throttled, 1_000),
    ])
    func throttlesAndQuotasAreRetryableAfterAWait(code: Int, enhanced: String?, text: String, expected: ErrorCode, after: Int) {
        let refined = ProviderReply.refine(Self.refused(code, enhanced, text))
        #expect(refined.code == expected)
        #expect(refined.retryable)
        #expect(refined.retryAfterMs == after)
        #expect(refined.smtp?.text == text, "the reply stays")
        #expect(refined.message.contains(text))
    }

    @Test(arguments: [
        (554, "5.2.252", "SendAsDenied; user@contoso.com not allowed to send as other@contoso.com", ErrorCode.senderNotAllowed),
        (535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", .smtpAuthDisabled),
        (535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.", .smtpAuthDisabled),
        (550, "5.7.30", "Basic authentication is not supported for Client Submission.", .smtpAuthDisabled),
    ])
    func accountProblemsAreNotRetryable(code: Int, enhanced: String, text: String, expected: ErrorCode) {
        let refined = ProviderReply.refine(Self.refused(code, enhanced, text, as: .authFailed))
        #expect(refined.code == expected)
        #expect(!refined.retryable)
        #expect(refined.retryAfterMs == nil)
    }

    @Test(arguments: [
        (421, "4.7.0", "Too many connections, try again later"),
        (454, "4.7.0", "TLS not available due to local problem"),
        (550, "5.1.1", "User unknown"),
        (535, "5.7.8", "Username and Password not accepted"),
    ])
    func otherRepliesKeepTheirCode(code: Int, enhanced: String, text: String) {
        let error = Self.refused(code, enhanced, text)
        #expect(ProviderReply.refine(error) == error)
    }
}
