#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// An IPv4 or IPv6 address as a number, for range checks. IPv4 is 32 bits, IPv6 128 bits,
/// both in network (big-endian) bit order: the first octet is the most significant.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// Parses a canonical literal: dotted-quad IPv4 (four decimal parts, no leading zeros) or
    /// IPv6 (`inet_pton` syntax, no zone id, no brackets). Obfuscated numerals such as
    /// `127.1` or `0x7f.0.0.1` are not canonical; see ``init(lenientIPv4:)``.
    public init?(_ text: String) {
        if let v4 = Self.parseCanonicalIPv4(text) {
            self = .v4(v4)
        } else if let v6 = Self.parseIPv6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// Parses an IPv4 address the way `inet_aton` (and therefore `getaddrinfo`, curl and
    /// browsers) does: one to four parts, each decimal, octal (leading `0`) or hexadecimal
    /// (`0x`); the last part fills the remaining bytes. `2130706433`, `0x7f.1`, `0177.0.0.1`
    /// and `127.1` all mean 127.0.0.1.
    public init?(lenientIPv4 text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = Self.parseInetAtonPart(part) else { return nil }
            values.append(value)
        }
        var result: UInt64 = 0
        for (index, value) in values.enumerated() {
            if index == values.count - 1 {
                let remainingBytes = 4 - index
                guard value < (UInt64(1) << (8 * UInt64(remainingBytes))) else { return nil }
                result |= value
            } else {
                guard value <= 0xFF else { return nil }
                result |= value << (8 * UInt64(3 - index))
            }
        }
        self = .v4(UInt32(result))
    }

    /// The address of a resolved socket address; nil for a Unix domain socket.
    public init?(_ address: SocketAddress) {
        // Read from the socket address's bytes, not its printed form: the address sits in
        // network order after the family and port (sockaddr_in: 4 bytes from offset 4;
        // sockaddr_in6: 16 bytes from offset 8, after the flow label). Its members are not
        // visible here (NIO imports them from an internal C module).
        switch address {
        case .v4(let v4):
            self = .v4(withUnsafeBytes(of: v4.address) { Self.bigEndianNumber($0[4..<8]) })
        case .v6(let v6):
            self = .v6(withUnsafeBytes(of: v6.address) { Self.bigEndianNumber($0[8..<24]) })
        case .unixDomainSocket:
            return nil
        }
    }

    private static func bigEndianNumber<Number: FixedWidthInteger>(_ bytes: Slice<UnsafeRawBufferPointer>) -> Number {
        bytes.reduce(0) { $0 << 8 | Number($1) }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let value):
            let storage = (0..<16).map { UInt8(truncatingIfNeeded: value >> (8 * (15 - $0))) }
            var buffer = [CChar](repeating: 0, count: 64)
            let printed = storage.withUnsafeBytes { source in
                buffer.withUnsafeMutableBufferPointer { target in
                    inet_ntop(AF_INET6, source.baseAddress, target.baseAddress, socklen_t(target.count)) != nil
                }
            }
            guard printed else { return String(value, radix: 16) }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The IPv4 address an IPv6 address carries in a form that reaches it (IPv4-mapped
    /// `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
    /// `2002:aabb:ccdd::`, and both the server and the client of a Teredo address).
    var embeddedIPv4: [UInt32] {
        guard case .v6(let value) = self else { return [] }
        let low32 = UInt32(truncatingIfNeeded: value)
        if value >> 32 == 0xFFFF { return [low32] }                       // ::ffff:0:0/96
        if value >> 32 == 0, value > 1 { return [low32] }                 // ::/96 (not :: or ::1)
        if value >> 32 == 0x0064_FF9B_0000_0000_0000_0000 { return [low32] } // 64:ff9b::/96
        if value >> 112 == 0x2002 { return [UInt32(truncatingIfNeeded: value >> 80)] } // 2002::/16
        if value >> 96 == 0x2001_0000 {                                   // Teredo 2001::/32
            return [UInt32(truncatingIfNeeded: value >> 64), ~low32]
        }
        return []
    }

    static func parseCanonicalIPv4(_ text: String) -> UInt32? {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            if part.count > 1, part.first == UInt8(ascii: "0") { return nil }
            let value = part.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 0x30) }
            guard value <= 255 else { return nil }
            result = result << 8 | value
        }
        return result
    }

    static func parseIPv6(_ text: String) -> UInt128? {
        guard text.contains(":"), !text.contains("%") else { return nil }
        var storage = [UInt8](repeating: 0, count: 16)
        let status = storage.withUnsafeMutableBytes { inet_pton(AF_INET6, text, $0.baseAddress) }
        guard status == 1 else { return nil }
        return storage.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    }

    /// One part of an `inet_aton` address: `0x1F` hex, `017` octal, `17` decimal.
    static func parseInetAtonPart(_ part: Substring) -> UInt64? {
        var digits = Substring(part)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
            // inet_aton reads "0x" alone as 0.
            if digits.isEmpty { return 0 }
        } else if digits.count > 1, digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 32 else { return nil }
        guard let value = UInt64(digits, radix: radix), value <= UInt64(UInt32.max) else { return nil }
        return value
    }
}
