import SidecarCore

/// A response as a client decodes it, with the result of the type the client expects.
public struct ResponseEnvelope<Result: Decodable & Sendable>: Decodable, Sendable {
    public var id: RequestID?
    public var ok: Bool
    public var result: Result?
    public var error: SidecarError?

    enum CodingKeys: String, CodingKey {
        case id, ok, result, error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(RequestID.self, forKey: .id)
        ok = try container.decode(Bool.self, forKey: .ok)
        error = try container.decodeIfPresent(SidecarError.self, forKey: .error)
        result = ok ? try container.decodeIfPresent(Result.self, forKey: .result) : try? container.decodeIfPresent(Result.self, forKey: .result)
    }
}
