/// The limits one credential sends under, in recipients (a message to three addresses
/// counts three: Gmail and Amazon SES count their limits so). Both parts are optional;
/// none means unlimited.
///
/// - ``rate``: a token bucket holding up to `count` sends, refilled at `count` per `per`
///   (so a burst of `count`, then a steady `count / per`).
/// - ``daily``: at most this many sends in any **rolling 24 hours** (counted in one-minute
///   buckets, so a send is forgotten 24 h to 24 h 1 min after it). Rolling rather than a
///   UTC day because that is how Gmail and SES count: a UTC-day counter would allow 500
///   at 23:59 and 500 more at 00:01, and Gmail answers that by locking the account.
public struct RateLimits: Sendable, Hashable, Codable {
    public struct Rate: Sendable, Hashable, Codable {
        public var count: Int
        public var per: Duration

        public init(count: Int, per: Duration) {
            self.count = count
            self.per = per
        }

        public static func perMinute(_ count: Int) -> Rate { Rate(count: count, per: .seconds(60)) }
        public static func perSecond(_ count: Int) -> Rate { Rate(count: count, per: .seconds(1)) }
    }

    public var rate: Rate?
    /// Sends allowed in any rolling 24 hours.
    public var daily: Int?

    public init(rate: Rate? = nil, daily: Int? = nil) {
        self.rate = rate
        self.daily = daily
    }

    public static let unlimited = RateLimits()
    /// Gmail / Google Workspace SMTP with a consumer account: 500 recipients a rolling day.
    public static let gmail = RateLimits(rate: nil, daily: 500)
    /// Amazon SES in the sandbox: 200 recipients a rolling day, 1 a second.
    public static let sesSandbox = RateLimits(rate: .perSecond(1), daily: 200)

    /// The presets by the names configuration uses.
    public static let presets: [String: RateLimits] = ["gmail": .gmail, "ses-sandbox": .sesSandbox]

    /// A preset by name (`gmail`, `ses-sandbox`), or nil.
    public static func preset(named name: String) -> RateLimits? {
        presets[name.lowercased()]
    }
}
