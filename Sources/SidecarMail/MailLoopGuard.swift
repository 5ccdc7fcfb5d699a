import SidecarCore
import SidecarMessage
import SidecarProtocol

/// Refuses a send that would mail the address whose email triggered the workflow: a reply
/// to it can trigger the workflow again, and again. Pure.
enum MailLoopGuard {
    static func check(_ params: SendParams) throws(SidecarError) {
        guard let trigger = params.context?.triggerEmail, !trigger.isEmpty else { return }
        let triggers = Set(
            try parseList(trigger, field: "params.context.trigger_email").map(\.address.caseInsensitiveKey))
        let fields: [(String, AddressList?)] = [("to", params.to), ("cc", params.cc), ("bcc", params.bcc)]
        for (name, list) in fields {
            for (index, entry) in (list?.entries ?? []).enumerated() {
                // An entry of an array is named by its 0-based index.
                let field = list?.isArray == true ? "params.\(name)[\(index)]" : "params.\(name)"
                for mailbox in try parseList(entry, field: field)
                where triggers.contains(mailbox.address.caseInsensitiveKey) {
                    throw SidecarError(
                        code: .mailLoop,
                        message: "\(mailbox.address) in \(field.dropFirst("params.".count)) sent the email that "
                            + "triggered this workflow; sending to it could start a mail loop, so nothing was sent.",
                        field: field)
                }
            }
        }
    }

    /// `text` as the composer will read it; `field` names it in the error.
    private static func parseList(_ text: String, field: String) throws(SidecarError) -> [Mailbox] {
        do {
            return try Mailbox.parseList(text)
        } catch {
            throw SidecarError(
                code: .invalidAddress, message: "\"\(error.entry.prefix(200))\" is not a valid email address: \(error.reason).",
                field: field)
        }
    }
}
