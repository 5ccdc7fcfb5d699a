/// The outcome of a finished send whose ``DedupStore/complete(_:resultJSON:countsAsSent:)``
/// could not be written to the database. Kept in memory, by record token, so that identical
/// sends waiting on that record get an answer at once instead of waiting out the stale limit:
/// a result that counts as sent is replayed, a `not_sent` frees the key.
struct UnrecordedOutcome: Sendable, Hashable {
    var countsAsSent: Bool
    var resultJSON: String
    /// The record's expiry (ms since the epoch): after it the entry is of no use.
    var expiresMs: Int64
}
