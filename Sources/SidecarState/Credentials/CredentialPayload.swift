/// What a stored credential seals: bytes the store's user encodes and decodes (the mail
/// engine writes the credential's fields as JSON), opaque to the store. They hold secrets,
/// so they never print: the description gives only their length.
public struct CredentialPayload: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { "CredentialPayload(\(bytes.count) bytes)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["count": bytes.count], displayStyle: .struct) }
}
