/// A stored credential, decrypted: what may be shown, and the payload that was sealed.
public struct StoredCredential: Sendable, Equatable {
    public var metadata: CredentialMetadata
    public var payload: CredentialPayload

    package init(metadata: CredentialMetadata, payload: CredentialPayload) {
        self.metadata = metadata
        self.payload = payload
    }
}
