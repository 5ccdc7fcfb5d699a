import SidecarEgress
import SidecarMessage

/// A URL attachment fetched by the egress layer, as the composer's attachment content:
/// the adapter that keeps the fetcher and the composer unaware of each other.
public struct FetchedAttachmentSource: AttachmentSource {
    public let fetched: FetchedAttachment

    public init(_ fetched: FetchedAttachment) {
        self.fetched = fetched
    }

    public var byteCount: Int? { fetched.byteCount }

    public func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        fetched.makeChunks()
    }
}
