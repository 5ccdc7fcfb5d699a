/// `metrics` result: the daemon's metrics in the Prometheus text exposition format, for a
/// scraper or a person. The text names no workspace, credential, host, address or message.
public struct MetricsResult: Sendable, Equatable, Codable {
    /// The exposition format's media type, as an HTTP scrape would be answered with.
    public static let prometheusContentType = "text/plain; version=0.0.4"

    /// The media type of ``text``: ``prometheusContentType``.
    public var contentType: String
    /// The metrics, one sample a line (`# TYPE` lines before each family).
    public var text: String

    public init(contentType: String = Self.prometheusContentType, text: String) {
        self.contentType = contentType
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case contentType = "content_type"
        case text
    }
}
