import SidecarCore

/// Why a frame's payload is not a valid request, with the request id when it could be read
/// so the error response can echo it.
package struct RequestDecodingFailure: Error, Sendable, Equatable {
    package var id: RequestID?
    package var error: SidecarError

    package init(id: RequestID?, error: SidecarError) {
        self.id = id
        self.error = error
    }
}
