import FoundationEssentials
import NIOCore
import SidecarCore

/// A request as a client builds it: the id, the operation name and encodable params.
public struct OutgoingRequest<Params: Encodable & Sendable>: Encodable, Sendable {
    public var id: RequestID
    public var op: String
    public var params: Params?

    public init(id: RequestID, op: String, params: Params?) {
        self.id = id
        self.op = op
        self.params = params
    }

    /// The request as a frame payload. Secrets in the params (passwords, tokens) are
    /// written in full: this is the one place they travel, to the sidecar.
    public func payload() throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.userInfo[Secret.revealWhenEncoding] = true
        return ByteBuffer(bytes: try encoder.encode(self))
    }
}

/// Empty params.
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}
