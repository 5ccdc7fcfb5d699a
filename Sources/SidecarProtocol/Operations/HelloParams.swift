/// `hello` parameters: the protocol versions the client speaks and who it is.
public struct HelloParams: Sendable, Equatable, Codable {
    /// Protocol versions the client can speak. Absent means `[1]`.
    public var versions: [Int]?
    /// Free-form client name and version, for logs (`"n8n-worker/1.42"`).
    public var client: String?

    public init(versions: [Int]? = nil, client: String? = nil) {
        self.versions = versions
        self.client = client
    }
}
