/// Lower-case hexadecimal, the one way the daemon writes bytes as hex (dedup keys, secret
/// fingerprints, Message-IDs, JSON `\u00XX` escapes).
public enum Hex {
    /// The ASCII digit for `value`, 0...15: `0`-`9`, then `a`-`f`.
    @inlinable
    public static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Two digits per byte, high nibble first.
    @inlinable
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digit(byte >> 4))
            text.append(digit(byte & 0x0F))
        }
        return String(decoding: text, as: UTF8.self)
    }
}
