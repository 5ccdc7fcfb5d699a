/// One row of the `dedup` table.
struct DedupRecord: Sendable, Hashable {
    enum State: String, Sendable {
        /// A send holds this key but has written nothing to a server yet (it may be waiting
        /// for a connection). If its process dies, nothing was sent: the key is free.
        /// Written by earlier versions only: a reservation now lives in the sending
        /// process's memory (``DedupStore``).
        case reserved
        /// A send holding this key may have started its SMTP transaction: its bytes may have
        /// left (or its process died while they might have).
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
