import SidecarEgress
import SidecarMessage

/// A URL attachment fetched by the egress layer, as the composer's attachment content:
/// the adapter that keeps the fetcher and the composer unaware of each other.
package struct FetchedAttachmentSource: AttachmentSource {
    package let fetched: FetchedAttachment

    package init(_ fetched: FetchedAttachment) {
        self.fetched = fetched
    }

    package var byteCount: Int? { fetched.byteCount }

    package func makeChunks() -> any AsyncSequence<ArraySlice<UInt8>, any Error> {
        fetched.makeChunks()
    }
}
