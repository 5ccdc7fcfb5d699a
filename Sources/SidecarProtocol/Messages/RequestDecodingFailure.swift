import SidecarCore

/// Why a frame's payload is not a valid request, with the request id when it could be read
/// so the error response can echo it.
public struct RequestDecodingFailure: Error, Sendable, Equatable {
    public var id: RequestID?
    public var error: SidecarError

    public init(id: RequestID?, error: SidecarError) {
        self.id = id
        self.error = error
    }
}
