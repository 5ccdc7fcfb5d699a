import Foundation
import SidecarCore
import Testing

@Suite struct SidecarErrorTests {
    @Test func encodesWithSnakeCaseKeysAndOmitsAbsentFields() throws {
        let error = SidecarError(
            code: .authFailed, message: "The server refused the username or password.", retryable: false,
            smtp: SMTPReply(code: 535, enhancedCode: "5.7.8", text: "Error: authentication failed"))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(error)) as? [String: Any]
        #expect(object?["code"] as? String == "auth_failed")
        #expect(object?["retryable"] as? Bool == false)
        #expect(object?["field"] == nil)
        let smtp = object?["smtp"] as? [String: Any]
        #expect(smtp?["code"] as? Int == 535)
        #expect(smtp?["enhanced_code"] as? String == "5.7.8")
        let decoded = try JSONDecoder().decode(SidecarError.self, from: JSONEncoder().encode(error))
        #expect(decoded == error)
    }

    @Test func registryHasNoDuplicatesAndOnlySnakeCaseCodes() {
        let codes = ErrorCode.registry.map(\.rawValue)
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(code)")
        }
    }

    @Test func replyClasses() {
        #expect(SMTPReply(code: 250, text: "ok").isPositiveCompletion)
        #expect(SMTPReply(code: 421, text: "bye").isTransientFailure)
        #expect(SMTPReply(code: 550, text: "no").isPermanentFailure)
        #expect(SMTPReply(code: 550, enhancedCode: "5.1.1", text: "no such user").description == "550 5.1.1 no such user")
    }
}
