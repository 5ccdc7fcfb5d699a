import SidecarCore

/// What the big providers mean by some of their replies, from their documentation: a
/// throttle, a spent daily quota, a From the login may not use, SMTP AUTH turned off. Each
/// gets its own code instead of the generic one its reply class would give, so a workflow
/// can tell "wait a second" from "wait a day" from "fix the account". Pure.
enum ProviderReply {
    /// One documented reply: matched on the reply code, the enhanced code when the provider
    /// sends a distinctive one, and words of its text (lowercased).
    struct Rule: Sendable {
        var codes: Set<Int>
        var enhancedCode: String?
        var words: [String]
        var code: ErrorCode
        var retryAfter: Duration?
        var meaning: String
        var advice: String

        func matches(_ reply: SMTPReply) -> Bool {
            guard codes.contains(reply.code) else { return false }
            if let enhancedCode, reply.enhancedCode == enhancedCode { return true }
            let text = reply.text.lowercased()
            return !words.isEmpty && words.allSatisfy(text.contains)
        }
    }

    static let rules: [Rule] = [
        Rule(
            codes: [454], words: ["throttling failure", "maximum sending rate exceeded"], code: .throttled,
            retryAfter: .seconds(1), meaning: "Amazon SES is throttling this account: it sent faster than its maximum rate",
            advice: "Retry after a second; send fewer messages a second through this account."),
        Rule(
            codes: [454], words: ["throttling failure", "daily message quota exceeded"], code: .quotaExceeded,
            retryAfter: .seconds(3600), meaning: "Amazon SES says this account's daily sending quota is spent",
            advice: "SES counts over a rolling 24 hours: retry later, or ask AWS for a higher quota."),
        Rule(
            codes: [550, 450], enhancedCode: "5.4.5", words: ["daily user sending limit exceeded"], code: .quotaExceeded,
            retryAfter: .seconds(3600), meaning: "Gmail says this account's daily sending limit is spent",
            advice: "Gmail counts over a rolling 24 hours: retry later, or send through Google Workspace or a relay."),
        Rule(
            codes: [421], words: ["try again later", "closing connection"], code: .throttled, retryAfter: .seconds(60),
            meaning: "The provider is throttling this account and closed the connection",
            advice: "Retry in a minute; the sidecar opens fewer connections to it for a while."),
        Rule(
            codes: [454], words: ["too many login attempts"], code: .throttled, retryAfter: .seconds(60),
            meaning: "Gmail refused the login for now: too many login attempts",
            advice: "Retry in a minute; check nothing else logs in with this account in a loop."),
        Rule(
            codes: [432], enhancedCode: "4.3.2", words: ["concurrent connections limit exceeded"], code: .throttled,
            retryAfter: .seconds(1), meaning: "Microsoft 365 says this account has too many connections open",
            advice: "Retry shortly; the sidecar opens fewer connections to it for a while."),
        Rule(
            codes: [554, 550], enhancedCode: "5.2.252", words: ["sendasdenied"], code: .senderNotAllowed, retryAfter: nil,
            meaning: "Microsoft 365 refused the From address: this login may not send as it",
            advice: "Send from the login's own mailbox, or have an admin grant Send As on the address."),
        Rule(
            codes: [535, 530], enhancedCode: "5.7.139", words: ["smtpclientauthentication is disabled"],
            code: .smtpAuthDisabled, retryAfter: nil,
            meaning: "Microsoft 365 has SMTP AUTH turned off for this mailbox or tenant",
            advice: "An admin must enable it (Set-CASMailbox -SmtpClientAuthenticationDisabled $false, or the "
                + "tenant's setting), or use an OAuth credential."),
        Rule(
            codes: [550, 535], enhancedCode: "5.7.30", words: ["basic authentication is not supported"],
            code: .smtpAuthDisabled, retryAfter: nil,
            meaning: "Microsoft 365 no longer accepts a password for this login",
            advice: "Store an OAuth credential (smtp-sidecar credentials add --oauth microsoft; see docs/oauth.md)."),
    ]

    /// `error` with the provider's meaning when its reply is a documented one; otherwise as
    /// it is. The reply stays in `smtp`; `field` is kept.
    static func refine(_ error: SidecarError) -> SidecarError {
        guard let reply = error.smtp, let rule = rules.first(where: { $0.matches(reply) }) else { return error }
        var refined = error
        refined.code = rule.code
        refined.message = "\(rule.meaning) (\(reply)). \(rule.advice)"
        refined.retryable = rule.retryAfter != nil
        refined.retryAfterMs = rule.retryAfter.map { Int($0.components.seconds) * 1000 }
        return refined
    }
}
