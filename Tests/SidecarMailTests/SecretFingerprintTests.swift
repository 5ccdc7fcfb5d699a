import SidecarCore
import Testing

@testable import SidecarMail

@Suite struct SecretFingerprintTests {
    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    /// RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (case 5 tests truncation, which we don't do).
    /// Typed, and the long text one literal: inferred, the list took the type checker past
    /// its time limit on a loaded machine.
    static let rfc4231: [(key: [UInt8], data: [UInt8], mac: String)] = [
        (
            [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        (
            Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            [UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"
        ),
        (
            Array(UInt8(1)...UInt8(25)), [UInt8](repeating: 0xcd, count: 50),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131),
            Array(
                """
                This is a test using a larger than block-size key and a larger than block-size data. \
                The key needs to be hashed before being used by the HMAC algorithm.
                """.utf8
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ]

    @Test(arguments: rfc4231)
    func hmacRFC4231(key: [UInt8], data: [UInt8], mac: String) {
        #expect(Self.hex(SecretFingerprint(secretBytes: data, key: .init(bytes: key)).bytes) == mac)
    }

    /// One key serves every send: each fingerprint starts from the keyed state afresh, so
    /// an earlier secret never leaks into a later fingerprint (RFC 4231 case 2).
    @Test func oneKeyFingerprintsSecretsIndependently() {
        let key = SecretFingerprint.Key(bytes: Array("Jefe".utf8))
        let data = Array("what do ya want for nothing?".utf8)
        let mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(Self.hex(SecretFingerprint(secretBytes: data, key: key).bytes) == mac)
        let other = SecretFingerprint(secretBytes: Array("something else".utf8), key: key)
        #expect(Self.hex(other.bytes) != mac)
        #expect(Self.hex(SecretFingerprint(secretBytes: data, key: key).bytes) == mac)
        #expect(SecretFingerprint(secretBytes: Array("something else".utf8), key: key) == other)
    }

    @Test func fingerprintDependsOnSecretAndKeyAndHidesBoth() {
        let key = SecretFingerprint.Key.random()
        let password = "hunter2-very-secret"
        let fingerprint = SecretFingerprint(secret: password, key: key)
        #expect(fingerprint == SecretFingerprint(secret: password, key: key))
        #expect(fingerprint != SecretFingerprint(secret: password + "x", key: key))
        #expect(fingerprint != SecretFingerprint(secret: password, key: .random()))
        #expect(!"\(fingerprint)".contains(password))
        #expect("\(fingerprint)".count < 40)
        #expect("\(key)" == "SecretFingerprint.Key(redacted)")
        #expect(SecretFingerprint(Secret(password), key: key) == fingerprint)
    }
}
