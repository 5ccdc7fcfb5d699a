@testable import SidecarMessage

/// The fuzz target of the address parser (``AddressListParser``, ``EmailAddress``): what the
/// composer does with a workflow author's To, Cc, Bcc, From and Reply-To. Besides not
/// trapping, it checks:
///
/// - the shortcuts agree with the full parsers: a bare address (``AddressListParser/parse``
///   against ``AddressListParser/parseGeneral``, ``EmailAddress/init(parsing:)`` against
///   ``EmailAddress/init(general:)``) parses the same or fails in both;
/// - a parsed address holds no CR, LF or NUL (header injection), its domain is ASCII, and
///   it fits RFC 5321's limits (64 octets of local part, 254 in all); a display name has no
///   line break its input did not have (the composer refuses CR and LF before parsing);
/// - an address written out again re-parses to the same (compared as written out, with the
///   domain's A-labels): its addr-spec alone, and with its display name as a quoted string
///   (`"Name" <addr>`) to the same display name.
///
/// Input: the bytes as UTF-8 text (invalid sequences become U+FFFD, as in a JSON string).
public enum AddressFuzzer {
    public static func run(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)

        let list = Result { () throws(AddressListParser.Invalid) in try AddressListParser.parse(text) }
        let general = Result { () throws(AddressListParser.Invalid) in try AddressListParser.parseGeneral(text) }
        precondition(
            (try? list.get()) == (try? general.get()),
            "the bare-address shortcut and the full parser disagree on \(text.debugDescription)")

        let spec = Result { () throws(EmailAddress.Invalid) in try EmailAddress(parsing: text) }
        let specGeneral = Result { () throws(EmailAddress.Invalid) in try EmailAddress(general: text) }
        precondition(
            (try? spec.get()) == (try? specGeneral.get()),
            "EmailAddress's plain shortcut and the full parser disagree on \(text.debugDescription)")
        if let address = try? spec.get() { check(address) }

        guard let mailboxes = try? list.get() else { return }
        for mailbox in mailboxes {
            check(mailbox.address)
            // A display name keeps the line breaks its input had: the parser is not the
            // guard against them (the composer refuses CR and LF before parsing), but it
            // must not make one up.
            if let name = mailbox.displayName, !text.unicodeScalars.contains(where: Self.isLineBreak) {
                precondition(!name.unicodeScalars.contains(where: Self.isLineBreak), "display name \(name.debugDescription)")
            }
            // Compared as written out: the addr-spec carries the domain's A-labels, so
            // `domain` (Unicode as given) may differ, and must not matter.
            let bare = try? AddressListParser.parse(mailbox.address.addressSpec)
            precondition(
                bare?.map(\.description) == [mailbox.address.addressSpec],
                "\(mailbox.address.addressSpec.debugDescription) from \(text.debugDescription) re-parses as \(String(describing: bare))")
            guard let name = mailbox.displayName, !name.unicodeScalars.contains(where: Self.isLineBreak) else { continue }
            var quoted = "\""
            for scalar in name.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(scalar)
            }
            let written = quoted + "\" <" + mailbox.address.addressSpec + ">"
            let again = try? AddressListParser.parse(written)
            precondition(
                again?.map(\.displayName) == [name] && again?.map(\.address.addressSpec) == [mailbox.address.addressSpec],
                "\(written.debugDescription) from \(text.debugDescription) re-parses as \(String(describing: again))")
        }
    }

    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\r" || scalar == "\n"
    }

    static func check(_ address: EmailAddress) {
        let spec = address.addressSpec
        precondition(!spec.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" }, "address \(spec.debugDescription)")
        precondition(address.asciiDomain.utf8.allSatisfy { $0 < 0x80 }, "domain \(address.asciiDomain.debugDescription)")
        precondition(address.localPart.utf8.count <= EmailAddress.maxLocalPartOctets, "local part of \(spec.debugDescription)")
        precondition(spec.utf8.count <= EmailAddress.maxAddressOctets, "\(spec.utf8.count) octets: \(spec.debugDescription)")
    }
}
