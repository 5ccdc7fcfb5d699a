/// One row of the `dedup` table.
struct DedupRecord: Sendable, Hashable {
    enum State: String, Sendable {
        /// A send holding this key is running (or its process died mid-send).
        case pending
        /// The send finished with a result that counts as sent; `resultJSON` holds it.
        case done
    }

    var key: String
    var state: State
    var resultJSON: String?
    var createdMs: Int64
    var expiresMs: Int64
    /// ``ProcessIdentity/owner`` of the process that began the send.
    var owner: String
    /// Random per `begin`; only the holder of the matching ``DedupTicket`` may complete it.
    var token: String
}
