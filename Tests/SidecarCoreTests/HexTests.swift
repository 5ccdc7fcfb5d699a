import SidecarCore
import Testing

@Suite struct HexTests {
    @Test func everyByteIsTwoLowerCaseDigits() {
        #expect(Hex.string([]) == "")
        #expect(Hex.string([0x00, 0x09, 0x0A, 0x7F, 0xA5, 0xFF]) == "00090a7fa5ff")
        let all = Hex.string(0...255)
        #expect(all.utf8.count == 512)
        #expect(all.hasPrefix("000102") && all.hasSuffix("fdfeff"))
        for value in UInt8(0)...15 {
            #expect(Hex.digit(value) == Array("0123456789abcdef".utf8)[Int(value)])
        }
    }
}
