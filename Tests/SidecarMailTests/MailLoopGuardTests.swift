import SidecarCore
import SidecarProtocol
import Testing

@testable import SidecarMail

@Suite struct MailLoopGuardTests {
    /// Each list is given as a wire string when it has one entry, as an array otherwise.
    func params(to: [String] = [], cc: [String] = [], bcc: [String] = [], trigger: String?) -> SendParams {
        var params = SendParams(workspaceID: "w")
        params.to = to.isEmpty ? nil : AddressList(to, isArray: to.count > 1)
        params.cc = cc.isEmpty ? nil : AddressList(cc, isArray: cc.count > 1)
        params.bcc = bcc.isEmpty ? nil : AddressList(bcc, isArray: bcc.count > 1)
        params.context = .init(triggerEmail: trigger)
        return params
    }

    @Test(arguments: [
        (["customer@example.org"], [String](), [String](), "params.to"),
        (["other@x.org, Customer <Customer@Example.ORG>"], [], [], "params.to"),
        (["other@x.org"], ["\"Doe, Jane\" <customer@example.org>"], [], "params.cc"),
        (["other@x.org"], [], ["CUSTOMER@EXAMPLE.ORG"], "params.bcc"),
        (["other@x.org", "x@y.org", "customer@example.org"], [], [], "params.to[2]"),
    ])
    func triggerAddressIsRefusedInEveryFieldAndForm(to: [String], cc: [String], bcc: [String], field: String) {
        #expect {
            try MailLoopGuard.check(params(to: to, cc: cc, bcc: bcc, trigger: "The Customer <customer@example.org>"))
        } throws: { error in
            (error as? SidecarError)?.code == .mailLoop && (error as? SidecarError)?.field == field
        }
    }

    @Test func otherRecipientsAndNoTriggerPass() throws {
        try MailLoopGuard.check(params(to: ["a@example.org"], cc: ["customer@example.com"], trigger: "customer@example.org"))
        try MailLoopGuard.check(params(to: ["customer@example.org"], trigger: nil))
        try MailLoopGuard.check(params(to: ["customer@example.org"], trigger: ""))
    }

    @Test func port25IsRefusedWithItsOwnCode() {
        let resolver = CredentialResolver(settings: MailSettings())
        #expect {
            _ = try resolver.configuration(for: CredentialParams(host: "smtp.example.com", port: 25, username: "u", password: Secret("p")))
        } throws: { error in
            (error as? SidecarError)?.code == .port25Blocked && (error as? SidecarError)?.field == "params.credential.port"
        }
    }
}
