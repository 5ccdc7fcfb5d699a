/// What a host string from a request is, before any DNS: an address literal, an obfuscated
/// numeric IPv4 form, or a name to resolve. Pure.
enum HostLiteral: Sendable, Hashable {
    /// A canonical IPv4 or IPv6 literal (IPv6 may come in brackets).
    case address(IPAddress)
    /// A number `inet_aton` would accept but that is not a dotted quad (`2130706433`,
    /// `0x7f.1`, `127.1`, `0177.0.0.1`): what it means, so the refusal can say so.
    case obfuscatedIPv4(IPAddress)
    /// Looks numeric (its last label is a number) but is not a valid address: `1.2.3.4.5`,
    /// `256.1.1.1`. Resolvers and URL parsers disagree about these; refused.
    case invalidNumeric
    /// A host name, lower-cased, without a trailing dot.
    case name(String)
    /// Empty, too long, or characters no host name has.
    case invalid

    init(_ raw: String) {
        var host = raw
        if host.hasPrefix("["), host.hasSuffix("]") {
            let inner = String(host.dropFirst().dropLast())
            if let value = IPAddress.parseIPv6(inner) { self = .address(.v6(value)) } else { self = .invalid }
            return
        }
        if let address = IPAddress(host) {
            self = .address(address)
            return
        }
        if host.hasSuffix(".") { host.removeLast() }
        guard !host.isEmpty, host.utf8.count <= 253 else {
            self = .invalid
            return
        }
        let allowed: (UInt8) -> Bool = { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host.utf8.allSatisfy(allowed), labels.allSatisfy({ (1...63).contains($0.utf8.count) }) else {
            self = .invalid
            return
        }
        // WHATWG URL "ends in a number": such a host is an IPv4 address or nothing.
        if let last = labels.last, Self.isNumber(last) {
            if let lenient = IPAddress(lenientIPv4: host) {
                self = .obfuscatedIPv4(lenient)
            } else {
                self = .invalidNumeric
            }
            return
        }
        self = .name(host.lowercased())
    }

    private static func isNumber(_ label: Substring) -> Bool {
        if label.hasPrefix("0x") || label.hasPrefix("0X") {
            return label.dropFirst(2).allSatisfy(\.isHexDigit)
        }
        return label.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
