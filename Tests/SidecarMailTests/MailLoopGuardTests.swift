import SidecarCore
import SidecarProtocol
import Testing

@testable import SidecarMail

@Suite struct MailLoopGuardTests {
    func params(to: [String] = [], cc: [String] = [], bcc: [String] = [], trigger: String?) -> SendParams {
        var params = SendParams(workspaceID: "w")
        params.to = to.isEmpty ? nil : AddressList(to)
        params.cc = cc.isEmpty ? nil : AddressList(cc)
        params.bcc = bcc.isEmpty ? nil : AddressList(bcc)
        params.context = .init(triggerEmail: trigger)
        return params
    }

    @Test(arguments: [
        (["customer@example.org"], [String](), [String](), "params.to"),
        (["other@x.org, Customer <Customer@Example.ORG>"], [], [], "params.to"),
        (["other@x.org"], ["\"Doe, Jane\" <customer@example.org>"], [], "params.cc"),
        (["other@x.org"], [], ["CUSTOMER@EXAMPLE.ORG"], "params.bcc"),
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
