import Foundation
import SidecarCore
import Testing

@Suite struct SecretTests {
    let password = "hunter2-Sup3r-s3cret"

    struct Credential: Codable {
        var username: String
        var password: Secret
    }

    @Test func everyRenderingIsRedacted() throws {
        let secret = Secret(password)
        let credential = Credential(username: "alice", password: secret)
        var dumped = ""
        dump(credential, to: &dumped)
        let renderings = [
            "\(secret)", String(describing: secret), String(reflecting: secret), "\(credential)",
            String(reflecting: credential), dumped,
            String(decoding: try JSONEncoder().encode(credential), as: UTF8.self),
        ]
        for rendering in renderings {
            #expect(!rendering.contains(password), "leaked in: \(rendering)")
        }
        #expect("\(secret)" == Secret.redacted)
    }

    @Test func decodingReadsThePlainValue() throws {
        let json = #"{"username":"alice","password":"\#(password)"}"#
        let credential = try JSONDecoder().decode(Credential.self, from: Data(json.utf8))
        #expect(credential.password.revealedValue == password)
        #expect(credential.password.withRevealedValue { $0.count } == password.count)
    }

    @Test(arguments: [("a", "a", true), ("a", "b", false), ("abc", "ab", false), ("", "", true), ("ab", "abc", false)])
    func equality(lhs: String, rhs: String, equal: Bool) {
        #expect((Secret(lhs) == Secret(rhs)) == equal)
    }
}

@Suite struct SecretTransmissionTests {
    @Test func revealsOnlyWhenTheEncoderIsToldTo() throws {
        let secret = Secret("t0ken-value")
        let plain = String(decoding: try JSONEncoder().encode([secret]), as: UTF8.self)
        #expect(!plain.contains("t0ken-value"))
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealWhenEncoding] = true
        let revealed = String(decoding: try encoder.encode([secret]), as: UTF8.self)
        #expect(revealed == #"["t0ken-value"]"#)
    }
}
